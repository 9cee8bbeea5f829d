"""``SummaryWriter``: scalars, histograms and text as tensorboard event files."""
from __future__ import annotations

import logging
import os
import socket
import time
from datetime import datetime

import numpy
from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.summary.writer.event_file_writer import EventFileWriter

_log = logging.getLogger(__name__)


def _host_array(values):
    """A numpy copy of a tensor, array or number (logging reads values on the host)."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    return numpy.asarray(values)


def _scalar(value) -> float:
    arr = _host_array(value)
    if arr.size != 1:
        raise ValueError(f"scalar should be 0D, got an array of shape {arr.shape}")
    return float(arr.reshape(()))


def _tensorflow_bins():
    """torch's default ('tensorflow') histogram buckets: +-1e-12 growing by 10% to 1e20."""
    v, pos = 1e-12, []
    while v < 1e20:
        pos.append(v)
        v *= 1.1
    return [-x for x in reversed(pos)] + [0] + pos


class SummaryWriter:
    """Writes summaries to ``log_dir`` (default ``runs/<time>_<host><comment>``, as torch)."""

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120,
                 filename_suffix=""):
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = str(log_dir)
        self.purge_step, self.max_queue = purge_step, max_queue
        self.flush_secs, self.filename_suffix = flush_secs, filename_suffix
        self._writer = EventFileWriter(self.log_dir, max_queue, flush_secs, filename_suffix)
        self._children = {}

    def get_logdir(self) -> str:
        return self.log_dir

    def _write(self, summary, global_step, walltime):
        event = Event(summary=summary, wall_time=time.time() if walltime is None else walltime)
        if global_step is not None:
            event.step = int(global_step)
        self._writer.add_event(event)

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        value = _scalar(scalar_value)
        self._write(Summary(value=[Summary.Value(tag=tag, simple_value=value)]), global_step,
                    walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """One run per key, under ``log_dir/<main_tag>_<key>`` (torch's layout)."""
        for tag, value in tag_scalar_dict.items():
            path = os.path.join(self.log_dir, f"{main_tag.replace('/', '_')}_{tag}")
            child = self._children.get(path)
            if child is None:
                child = self._children[path] = EventFileWriter(path, self.max_queue,
                                                               self.flush_secs,
                                                               self.filename_suffix)
            event = Event(summary=Summary(value=[Summary.Value(tag=main_tag,
                                                               simple_value=_scalar(value))]),
                          wall_time=time.time() if walltime is None else walltime)
            if global_step is not None:
                event.step = int(global_step)
            child.add_event(event)

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None,
                      max_bins=None):
        arr = _host_array(values).astype(numpy.float64).reshape(-1)
        if arr.size == 0:
            raise ValueError("The input has no element.")
        edges = _tensorflow_bins() if bins == "tensorflow" else bins
        counts, limits = numpy.histogram(arr, bins=edges)
        nonzero = numpy.nonzero(counts)[0]
        lo, hi = (nonzero[0], nonzero[-1] + 1) if nonzero.size else (0, 1)
        hist = HistogramProto(min=float(arr.min()), max=float(arr.max()), num=int(arr.size),
                              sum=float(arr.sum()), sum_squares=float((arr * arr).sum()),
                              bucket_limit=[float(x) for x in limits[lo + 1:hi + 1]],
                              bucket=[float(x) for x in counts[lo:hi]])
        self._write(Summary(value=[Summary.Value(tag=tag, histo=hist)]), global_step, walltime)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="text"))
        tensor = TensorProto(dtype="DT_STRING", string_val=[text_string.encode("utf-8")],
                             tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]))
        value = Summary.Value(tag=tag + "/text_summary", metadata=meta, tensor=tensor)
        self._write(Summary(value=[value]), global_step, walltime)

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """torch traces the model with TorchScript; plugrad has no tracer, so no graph is
        written (a warning says so; training goes on)."""
        _log.warning("add_graph: plugrad cannot trace a model graph; no graph was written")

    def flush(self):
        self._writer.flush()
        for child in self._children.values():
            child.flush()

    def close(self):
        self._writer.close()
        for child in self._children.values():
            child.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
