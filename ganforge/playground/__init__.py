"""The playground (`ganforge serve`): GAN Lab in the browser with the real engine behind it.

  server.py     FastAPI app: static page, JSON API, one websocket per tab
  session.py    a tab's worker thread; latest-frame outbox (old frames dropped)
  messages.py   validation of everything the page sends
  lab.py        the 2-D lab's models and lean training step (fast_adam.py: its optimiser step)
  render.py     frames of the 2-D lab (points, heat map, arrows, manifold, metrics), no UI
  imagelab.py   grids, latent sliders and interpolation for exported models and runs
  runs.py       listing --runs and resolving paths strictly inside it
  static/       the page: HTML, CSS and hand-written JS; nothing loaded from the network
"""
