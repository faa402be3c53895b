__version__ = "0.2.0"

#: Version of the on-disk format written by ``save_pretrained``. Bump it when the layout of a
#: saved model changes; ``from_pretrained`` refuses a schema newer than this one.
SCHEMA_VERSION = 1
