"""The namespace ultralytics keeps a run's arguments in (pickled with the model as `args`)."""
from types import SimpleNamespace


class IterableSimpleNamespace(SimpleNamespace):
    def __iter__(self):
        return iter(vars(self).items())

    def get(self, key, default=None):
        return getattr(self, key, default)
