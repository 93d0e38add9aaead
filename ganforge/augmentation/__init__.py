"""`ganforge augment`: make a small labelled image set worth more with a class-conditional GAN,
and measure whether it is, on real test data.

subset.py (the labelled data, a seeded per-class subset, imbalance), classifier.py (the
stated downstream CNN, its training, classical augmentation), filters.py (which generated
samples to keep), output.py (the augmented set on disk), evaluate.py (the four rows).
The pipeline that joins them: ganforge/pipelines/augment.py.
"""
