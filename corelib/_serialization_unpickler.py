"""A restricted, budgeted unpickler: what ``plugrad.load`` reads ``data.pkl`` with.

The C unpickler cannot be bounded: one memo reference costs two bytes of file, but handing it
to ``set``, ``_codecs.encode`` or a dict key again costs as much as the object it names, and a
C call (``frozenset`` over a 10**12-element array) cannot even be interrupted. So, as torch's
weights-only loader does, this one interprets the opcodes in Python (the stdlib's pure-Python
unpickler, with the dangerous opcodes overridden), and:

* a global is only what the allow-list names; calling one goes through its *guard*, which
  checks the arguments' types and charges the work and memory of the call before making it;
* every object, container slot, memo entry and dict key the file makes is charged against a
  budget proportional to the file's size (``_Budget``), including the cost of hashing a key:
  a tuple's hash is not cached, so a key built as a DAG of shared tuples costs its expanded
  size each time it is hashed, and ints/tuples hash deterministically, so the probes of keys
  that collide are charged too;
* ``BUILD``, ``APPEND(S)``, ``SETITEM(S)``, ``ADDITEMS``, ``NEWOBJ`` and ``INST``/``OBJ`` act
  only on the containers and pending objects this module knows (or on instances of classes the
  user allow-listed), never on whatever object a file happens to leave on the stack.

Everything here is Python-level, so Ctrl-C interrupts a load at any point.
"""
from __future__ import annotations

import pickle
from collections import Counter, OrderedDict

# pickle-made objects cost a few dozen bytes each however short their opcode; a file gets a
# fixed allowance plus this many bytes of work/memory per byte of file
BUDGET_RATIO, BUDGET_FREE = 64, 64 << 20
_OBJECT, _SLOT, _ENTRY = 56, 8, 64     # bytes charged: a new object, a list slot, a dict entry
_SET_ENTRY = 128   # a set's table is kept at most 60% full, of 16-byte slots: up to ~107 B
_NODE = 8     # hashing one tuple node takes as long as copying a few dozen bytes
_SMALL = 16   # containers this small are not tracked for hash collisions
_MAX_DEPTH = 100   # tuples/frozensets nested deeper than this are never hashed
# hashes an attacker cannot steer (str/bytes hashing is randomized per process)
_RANDOMIZED = frozenset({str, bytes})
_FLAT = frozenset({str, bytes, float, bool, type(None), complex})   # hash cost: one unit
_INT = frozenset({int})
_FLAT_INT = _FLAT | _INT
_DICTS = (dict, OrderedDict, Counter)


def brief(obj):
    """A short description of ``obj`` for an error message, never a full repr: the repr of a
    list built as a DAG of memo references would take forever."""
    if isinstance(obj, (str, bytes)):
        return repr(obj[:40]) + ("..." if len(obj) > 40 else "")
    if type(obj) in (bool, float, type(None)) or (type(obj) is int and obj.bit_length() < 64):
        return repr(obj)
    name = getattr(obj, "name", None)        # Guarded, markers, storage types, dtypes
    if isinstance(name, str):
        return name
    if isinstance(obj, type):
        return f"{obj.__module__}.{obj.__qualname__}"
    try:
        return f"a {type(obj).__name__} of {len(obj)} items"
    except TypeError:
        return f"a {type(obj).__name__}"


class _Budget:
    """Units of work and memory (about a byte each) that unpickling one file may spend."""
    __slots__ = ("left", "total", "size")

    def __init__(self, file_size):
        self.size = file_size
        self.total = self.left = BUDGET_FREE + BUDGET_RATIO * file_size

    def spend(self, units, what):
        self.left -= units
        if self.left < 0:
            raise pickle.UnpicklingError(
                f"checkpoint too expensive to load: {what} would take the work and memory "
                f"spent unpickling it past {self.total} units ({BUDGET_RATIO}x the file's "
                f"{self.size} bytes plus {BUDGET_FREE >> 20} MiB); a file made by torch.save "
                "or pickle stays far below this, so this one repeats references to grow")


class Guarded:
    """An allow-listed callable: ``fn(unpickler, *args)`` checks and charges, then calls."""
    __slots__ = ("name", "fn")

    def __init__(self, name, fn):
        self.name, self.fn = name, fn

    def __call__(self, *args, **kwargs):   # never called directly: REDUCE goes through fn
        raise pickle.UnpicklingError(f"{self.name} is a checkpoint rebuild function")

    def __repr__(self):
        return self.name


class Pending:
    """An object the file builds in two steps (reconstruct, then ``BUILD`` its state)."""
    __slots__ = ()

    def build(self, unpickler, state):
        raise NotImplementedError


class RestrictedUnpickler(pickle._Unpickler):
    """The stdlib's pure-Python unpickler with the allow-list, guards and budget above.

    ``allowed`` maps ``"module.name"`` to what the file gets for that global (a ``Guarded``
    callable, a class used as a marker, a dtype...); ``user`` maps names the user allow-listed
    (``add_safe_globals``) to the real objects, which are trusted: called, instantiated and
    built on as plain pickle would. ``trusted=True`` (``weights_only=False``) resolves any
    other global by import, as plain pickle does.
    """

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, file_size, allowed, user=None, trusted=False):
        super().__init__(file)
        self.budget = _Budget(file_size)
        self._size = file_size
        readline = file.readline

        def whole_line():      # (the stdlib would drop the last byte of a cut-off line)
            line = readline()
            if not line.endswith(b"\n"):
                raise pickle.UnpicklingError("corrupt or truncated checkpoint: a line runs "
                                             "past the end of the data")
            return line
        self._file_readline = whole_line
        self._allowed = dict(allowed, **(user or {}))
        self._user = frozenset(id(v) for v in (user or {}).values())
        self._user_types = tuple(v for v in (user or {}).values() if isinstance(v, type))
        self._trusted = trusted
        # id -> (tuple or frozenset with nested containers, its hashing cost, its depth:
        # hashing recurses in C)
        self._noted = {}
        self._keep = []        # keeps the ids of tracked containers from being reused
        self._collisions = {}  # id(dict or set) -> Counter of deterministic key hashes
        self.pending = {}      # id -> Pending objects not yet consumed (numpy arrays)

    # ------------------------------------------------------------------ globals
    def find_class(self, module, name):
        if module == "__builtin__":   # protocol 2 spells Python 3's builtins this way
            module = "builtins"
        full = f"{module}.{name}"
        obj = self._allowed.get(full)
        if obj is not None:
            return obj
        if self._trusted:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"Weights only load failed: unsupported global: GLOBAL {full} was not an allowed "
            "global. plugrad.load never runs code from a file; if you trust its source, "
            f"allow-list it with plugrad.serialization.add_safe_globals([{full}]) or load "
            "with weights_only=False.")

    def _is_user(self, obj):
        return self._trusted or id(obj) in self._user

    def _is_user_instance(self, obj):
        return self._trusted or (bool(self._user_types) and isinstance(obj, self._user_types))

    # ------------------------------------------------------------------ costs
    def weight(self, obj):
        """What hashing (or deep-comparing) ``obj`` costs, about one unit per node visited."""
        noted = self._noted.get(id(obj))
        if noted is not None:
            return noted[1]
        if type(obj) is int:
            return 1 + obj.bit_length() // 2048
        if isinstance(obj, (tuple, frozenset)):
            return _NODE + len(obj)
        return 1

    def depth(self, obj):
        noted = self._noted.get(id(obj))
        return 1 if noted is None else noted[2]

    def _note_weight(self, obj, children):
        """Record what hashing ``obj`` costs (and how deep it recurses), where that is more
        than one unit per child."""
        kinds = set(map(type, children))
        if kinds <= _FLAT:
            return
        if kinds <= _FLAT_INT and not any(type(c) is int and c.bit_length() > 2047
                                          for c in children):
            return
        total, depth = _NODE, 1
        noted = self._noted
        for c in children:
            n = noted.get(id(c))
            if n is not None:
                total += n[1]
                depth = max(depth, n[2] + 1)
            else:
                total += self.weight(c)
                if isinstance(c, (tuple, frozenset)):
                    depth = max(depth, 2)
        self.budget.spend(4 * _ENTRY, "a nested tuple")   # (the record below)
        noted[id(obj)] = (obj, total, depth)       # (obj kept alive: its id stays its own)

    def charge_keys(self, keys, what, target=None):
        """Charge hashing ``keys`` (and the probes of those whose hashes collide) before any
        of them is hashed; ``target`` is the dict/set they go into (its earlier keys count).
        The common cases (str keys, small ints) are counted at C speed."""
        n = len(keys)
        kinds = set(map(type, keys))
        if kinds <= _FLAT:
            total = n
        elif kinds <= _INT:
            total = n + sum(map(int.bit_length, keys)) // 2048
        else:
            total = sum(map(self.weight, keys))
            depth = max(map(self.depth, keys), default=1)
            if depth > _MAX_DEPTH:   # hash() of a 10**6-deep tuple overflows the C stack
                raise pickle.UnpicklingError(f"corrupt checkpoint: {what} nested {depth} "
                                             f"deep (at most {_MAX_DEPTH} are hashed)")
        self.budget.spend(total, what)
        seen = self._collisions.get(id(target)) if target is not None else None
        if kinds <= _RANDOMIZED and seen is None:
            return              # nobody can make str/bytes hashes collide
        if seen is None and target is not None:
            if len(target) + n <= _SMALL:    # at most _SMALL probes a key: no bookkeeping
                self.budget.spend(_SMALL * n, what)
                return
            seen = self._collisions[id(target)] = Counter(map(hash, target))
            self._keep.append(target)
        self.budget.spend(_ENTRY * n, f"{what} (counting their hashes)")
        new = Counter(map(hash, keys))
        probes = 0
        if len(new) < n:
            probes += sum(c * (c - 1) // 2 for c in new.values() if c > 1)
        if seen:
            probes += sum(seen[h] * new[h] for h in seen.keys() & new.keys())
        if seen is not None:
            seen.update(new)
        if probes:
            self.budget.spend(probes * 8, f"{what} (keys whose hashes collide)")

    # ------------------------------------------------------------------ containers
    def load_empty_list(self):
        self.budget.spend(_OBJECT, "a list")
        self.append([])
    dispatch[pickle.EMPTY_LIST[0]] = load_empty_list

    def load_empty_dictionary(self):
        self.budget.spend(_OBJECT, "a dict")
        self.append({})
    dispatch[pickle.EMPTY_DICT[0]] = load_empty_dictionary

    def load_empty_set(self):
        self.budget.spend(_OBJECT, "a set")
        self.append(set())
    dispatch[pickle.EMPTY_SET[0]] = load_empty_set

    def load_list(self):
        items = self.pop_mark()
        self.budget.spend(_OBJECT + _SLOT * len(items), "a list")
        self.append(items)
    dispatch[pickle.LIST[0]] = load_list

    def _tuple(self, t):
        budget = self.budget
        budget.left -= _OBJECT + _SLOT * len(t)
        if budget.left < 0:
            budget.spend(0, "a tuple")
        self._note_weight(t, t)
        return t

    def load_tuple(self):
        items = self.pop_mark()         # (before self.append: pop_mark switches stacks)
        self.append(self._tuple(tuple(items)))
    dispatch[pickle.TUPLE[0]] = load_tuple

    def load_tuple1(self):
        stack = self.stack
        stack[-1] = self._tuple((stack[-1],))
    dispatch[pickle.TUPLE1[0]] = load_tuple1

    def load_tuple2(self):
        stack = self.stack
        stack[-2:] = [self._tuple((stack[-2], stack[-1]))]
    dispatch[pickle.TUPLE2[0]] = load_tuple2

    def load_tuple3(self):
        stack = self.stack
        stack[-3:] = [self._tuple((stack[-3], stack[-2], stack[-1]))]
    dispatch[pickle.TUPLE3[0]] = load_tuple3

    def load_frozenset(self):
        items = self.pop_mark()
        self.budget.spend(_OBJECT + _SET_ENTRY * len(items), "a frozenset")
        self.charge_keys(items, "a frozenset's items")
        s = frozenset(items)
        self._note_weight(s, s)
        self.append(s)
    dispatch[pickle.FROZENSET[0]] = load_frozenset

    def load_dict(self):
        items = self.pop_mark()
        if len(items) % 2:
            raise pickle.UnpicklingError("corrupt checkpoint: DICT of an odd number of items")
        d = {}
        self.budget.spend(_OBJECT, "a dict")
        self._setitems(d, items)
        self.append(d)
    dispatch[pickle.DICT[0]] = load_dict

    def _container(self, kinds, what):
        target = self.stack[-1]
        if type(target) not in kinds and not self._is_user_instance(target):
            raise pickle.UnpicklingError(f"corrupt checkpoint: {what} on a "
                                         f"{type(target).__name__}")
        return target

    def load_append(self):
        value = self.stack.pop()
        target = self._container((list,), "APPEND")
        self.budget.spend(_SLOT, "a list item")
        target.append(value)
    dispatch[pickle.APPEND[0]] = load_append

    def load_appends(self):
        items = self.pop_mark()
        target = self._container((list,), "APPENDS")
        self.budget.spend(_SLOT * len(items), "list items")
        if type(target) is list:
            target.extend(items)
        else:
            for item in items:
                target.append(item)
    dispatch[pickle.APPENDS[0]] = load_appends

    def _setitems(self, target, items):
        keys = items[0::2]
        # an OrderedDict entry also has a node in its linked list
        self.budget.spend((2 if isinstance(target, OrderedDict) else 1) * _ENTRY * len(keys),
                          "dict entries")
        if type(target) in _DICTS:
            self.charge_keys(keys, "dict keys", target)
        for i in range(0, len(items), 2):
            target[items[i]] = items[i + 1]

    def load_setitem(self):
        value, key = self.stack.pop(), self.stack.pop()
        self._setitems(self._container(_DICTS, "SETITEM"), [key, value])
    dispatch[pickle.SETITEM[0]] = load_setitem

    def load_setitems(self):
        items = self.pop_mark()
        if len(items) % 2:
            raise pickle.UnpicklingError("corrupt checkpoint: SETITEMS of an odd number of "
                                         "items")
        self._setitems(self._container(_DICTS, "SETITEMS"), items)
    dispatch[pickle.SETITEMS[0]] = load_setitems

    def load_additems(self):
        items = self.pop_mark()
        target = self._container((set,), "ADDITEMS")
        self.budget.spend(_SET_ENTRY * len(items), "set items")
        if type(target) is set:
            self.charge_keys(items, "set items", target)
        for item in items:
            target.add(item)
    dispatch[pickle.ADDITEMS[0]] = load_additems

    # ------------------------------------------------------------------ memo
    def _memo_put(self, i):
        # picklers number memo slots from 0, one per memoized object: an index beyond the
        # file's length is corrupt
        if not 0 <= i <= self._size:
            raise pickle.UnpicklingError(f"corrupt checkpoint: memo index {i} is out of range")
        budget = self.budget
        budget.left -= _ENTRY
        if budget.left < 0:
            budget.spend(0, "a memo entry")
        self.memo[i] = self.stack[-1]

    def load_put(self):
        self._memo_put(int(self.readline()[:-1]))
    dispatch[pickle.PUT[0]] = load_put

    def load_binput(self):
        self._memo_put(self.read(1)[0])
    dispatch[pickle.BINPUT[0]] = load_binput

    def load_long_binput(self):
        self._memo_put(int.from_bytes(self.read(4), "little"))
    dispatch[pickle.LONG_BINPUT[0]] = load_long_binput

    # ------------------------------------------------------------------ raw data
    def load_bytearray8(self):
        # the one opcode the pure-Python unpickler allocates for before reading: a length
        # is never more than the file holds (2**34 in a 1 kB file asked for 16 GB)
        n = int.from_bytes(self.read(8), "little")
        if n > self._size:
            raise pickle.UnpicklingError(f"corrupt or truncated checkpoint: BYTEARRAY8 of {n} "
                                         f"bytes in a file of {self._size}")
        self.budget.spend(n, "a bytearray")
        b = bytearray(n)
        if self.readinto(b) != n:
            raise pickle.UnpicklingError("corrupt or truncated checkpoint: BYTEARRAY8 "
                                         "truncated")
        self.append(b)
    dispatch[pickle.BYTEARRAY8[0]] = load_bytearray8

    def load_memoize(self):
        self._memo_put(len(self.memo))
    dispatch[pickle.MEMOIZE[0]] = load_memoize

    # ------------------------------------------------------------------ calls and objects
    def call(self, func, args):
        """What REDUCE, INST and OBJ do: a guarded call, or a user-allow-listed one."""
        if not isinstance(args, tuple):
            raise pickle.UnpicklingError(f"corrupt checkpoint: call arguments must be a "
                                         f"tuple, got {type(args).__name__}")
        self.budget.spend(_OBJECT, "a call")
        if isinstance(func, Guarded):
            return func.fn(self, *args)
        if self._is_user(func) and callable(func):
            return func(*args)
        raise pickle.UnpicklingError(f"{brief(func)} may not be called from a checkpoint")

    def load_reduce(self):
        args = self.stack.pop()
        self.stack[-1] = self.call(self.stack[-1], args)
    dispatch[pickle.REDUCE[0]] = load_reduce

    def _instantiate(self, klass, args):
        self.append(self.call(klass, tuple(args)))

    def _new(self, args, kwargs):
        cls = self.stack.pop()
        if not (isinstance(cls, type) and self._is_user(cls)):
            raise pickle.UnpicklingError(f"{brief(cls)} may not be instantiated from a "
                                         "checkpoint (NEWOBJ)")
        if not isinstance(args, tuple) or not isinstance(kwargs, dict):
            raise pickle.UnpicklingError("corrupt checkpoint: NEWOBJ arguments")
        self.budget.spend(_OBJECT, "an object")
        self.append(cls.__new__(cls, *args, **kwargs))

    def load_newobj(self):
        args = self.stack.pop()
        self._new(args, {})
    dispatch[pickle.NEWOBJ[0]] = load_newobj

    def load_newobj_ex(self):
        kwargs, args = self.stack.pop(), self.stack.pop()
        self._new(args, kwargs)
    dispatch[pickle.NEWOBJ_EX[0]] = load_newobj_ex

    def load_build(self):
        state = self.stack[-1]
        inst = self.stack[-2]
        if isinstance(inst, Pending):
            self.stack.pop()
            inst.build(self, state)
        elif type(inst) in (OrderedDict, Counter) and type(state) is dict and \
                all(type(k) is str for k in state):
            # torch's state_dict carries its _metadata as an OrderedDict attribute
            self.stack.pop()
            self.budget.spend(_ENTRY * len(state), "attributes")
            inst.__dict__.update(state)
        elif self._is_user_instance(inst):
            super().load_build()
        else:
            raise pickle.UnpicklingError(f"corrupt checkpoint: BUILD (set the state of) a "
                                         f"{type(inst).__name__} is not allowed")
    dispatch[pickle.BUILD[0]] = load_build
