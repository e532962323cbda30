"""A stand-in for the ultralytics 8.x package, for PruneLab's tests only.

ultralytics cannot be installed on the test machines, but PruneLab must read the
checkpoints it writes. This tree defines classes with the same module paths, class
names and attribute layout (so the same pickled globals and the same state_dict keys)
as ultralytics' YOLOv8/YOLO11 detection models, written from the published
architecture, not copied. It is enough to build, run, fuse and pickle a DetectionModel,
and to pickle what a mid-training checkpoint carries besides (the `criterion` of
utils/loss.py and utils/tal.py, which hold the attributes only and compute no loss).
"""
__version__ = "8.3.0"
