"""Kernels' machine code, loaded without importing numba: the coco-eval set and the CBOR set.

``import numba`` and loading kernels from numba's cache cost 0.4-0.5 s of a ~1 s
``evalcore coco-eval``, more than the evaluation itself, and ~1 s of CPU in each worker process
of a run (which needs one kernel, ``kernels.cbor_values``). The machine code needs none of that:
it needs numba's runtime (NRT, a small C extension) and a few C helpers. A ``NativeSet`` names
a set of C entry points (``kernels.coco_entries.COCO``, ``kernels.cbor_reader.CBOR``, which
also wrap the loaded entries for their callers); for each set:

- Build (``build``, when the saved code is missing or stale; that process imports numba anyway):
  the set's compiler module (``kernels.coco_native``, ``kernels.cbor_values``) compiles C entry
  points (``numba.cfunc``) that call the jitted kernels, and their object code, with that of
  NRT's LLVM functions, is written as one file in numba's cache directory (``NUMBA_CACHE_DIR``,
  else ``kernels/__pycache__``), atomically. The file is keyed by the set's sources, the numba /
  llvmlite / numpy / Python versions, numba's environment settings and the host CPU, and carries
  a checksum.
- Load (``load``: every later process): llvmlite's MCJIT loads the object code
  into an empty engine. NRT's C functions come from numba's ``_nrt_python`` extension and the helpers
  from ``_helperlib`` / ``_dynfunc``, each loaded by file without running ``numba/__init__``
  (registered under their real names, so a later ``import numba`` reuses them); symbols are
  registered the way numba registers them. Every undefined symbol of the object code must
  resolve before the engine links it (MCJIT aborts the process on an unresolved one). Any
  mismatch, corruption or failure gives None: the caller uses the numba kernels (and, in
  ``evalcore coco-eval`` or a run's numba warm-up, rebuilds).

The entries are called through ``ctypes``, which releases the GIL: the results scan overlaps the
ground-truth decode, and evaluation can run on several threads. The numbers are the numba path's
bits (same LLVM, same code, no fast-math); tests/test_native_kernels.py compares them.
"""

from __future__ import annotations

import builtins
import contextlib
import ctypes
import glob
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import struct
import sys
import tempfile
import threading
from dataclasses import dataclass

import numpy as np

from kernels._cache import ensure_cache_dir, owned_by_this_user

__all__ = ["NativeEntries", "NativeSet", "build", "can_build", "load", "loaded", "native_path"]

_HERE = os.path.dirname(os.path.abspath(__file__))


@dataclass(frozen=True)
class NativeSet:
    """A set of C entry points saved as one file.

    ``sources``: the files of this package the machine code depends on (their bytes are in the
    key); ``entries``: name -> argument kinds (``*`` a pointer; i64, f64, b1 = bool, u8), every
    entry returns nothing; ``compiler``: the module whose ``compile_entries()`` gives
    ``{name: numba CFunc}`` (it imports numba; only ``build`` imports it).
    """

    name: str
    file_name: str
    sources: tuple
    entries: dict
    compiler: str


_MAGIC = b"evalcore native kernels v1\n"
_DIGEST = 32  # sha256
_EXTENSIONS = (  # numba's C extensions the machine code calls into: (module, file pattern)
    ("numba.core.runtime._nrt_python", ("core", "runtime", "_nrt_python*")),
    ("numba._helperlib", ("_helperlib*",)),
    ("numba._dynfunc", ("_dynfunc*",)),
)

_lock = threading.Lock()
_loaded = {}  # set name -> NativeEntries or None, once a load was tried in this process


def native_path(kset):
    """Where a set's saved object code lives (numba's cache directory for this package)."""
    ensure_cache_dir()
    folder = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(_HERE, "__pycache__")
    return os.path.join(folder, kset.file_name)


# --- key ----------------------------------------------------------------------------------------


def _numba_dir():
    spec = importlib.util.find_spec("numba")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def _key(llvm, kset):
    """Digest of everything a set's saved machine code depends on."""
    numba_dir = _numba_dir()
    if numba_dir is None:
        return None
    parts = [_MAGIC, kset.name.encode(), sys.version.encode(), sys.platform.encode(), np.__version__.encode()]
    import llvmlite

    parts += [llvmlite.__version__.encode(), repr(llvm.llvm_version_info).encode(),
              llvm.get_process_triple().encode(), llvm.get_host_cpu_name().encode(),
              llvm.get_host_cpu_features().flatten().encode()]
    with open(os.path.join(numba_dir, "_version.py"), "rb") as f:
        parts.append(f.read())
    for module_name, pattern in _EXTENSIONS:
        path = _extension_path(numba_dir, pattern)
        stat = os.stat(path)
        parts.append(f"{module_name} {stat.st_size} {stat.st_mtime_ns}".encode())
    parts += [f"{k}={v}".encode() for k, v in sorted(os.environ.items())
              if k.startswith("NUMBA_") and k != "NUMBA_CACHE_DIR"]
    for name in kset.sources:
        with open(os.path.join(_HERE, name), "rb") as f:
            parts.append(hashlib.sha256(f.read()).digest())
    return hashlib.sha256(b"\0".join(parts)).digest()


def _extension_path(numba_dir, pattern):
    suffixes = importlib.machinery.EXTENSION_SUFFIXES
    for path in sorted(glob.glob(os.path.join(numba_dir, *pattern))):
        if any(path.endswith(s) for s in suffixes):
            return path
    raise FileNotFoundError(os.path.join(numba_dir, *pattern))


# --- file format: magic, key, sha256 of the payload, payload (JSON header + objects) -----------


def _pack(key, entries, objects):
    header = json.dumps({"entries": entries, "objects": [len(o) for o in objects]}).encode()
    payload = struct.pack("<Q", len(header)) + header + b"".join(objects)
    return _MAGIC + key + hashlib.sha256(payload).digest() + payload


def _unpack(data, key, kset):
    """``(entries, objects)``, or None if the file is not this key's or is damaged."""
    start = len(_MAGIC) + 2 * _DIGEST
    if len(data) < start + 8 or not data.startswith(_MAGIC):
        return None
    if data[len(_MAGIC):len(_MAGIC) + _DIGEST] != key:
        return None
    payload = data[start:]
    if hashlib.sha256(payload).digest() != data[len(_MAGIC) + _DIGEST:start]:
        return None
    try:
        (n_header,) = struct.unpack_from("<Q", payload)
        header = json.loads(payload[8:8 + n_header])
        objects, pos = [], 8 + n_header
        for size in header["objects"]:
            objects.append(payload[pos:pos + size])
            pos += size
        entries = header["entries"]
    except (ValueError, KeyError, TypeError, struct.error):
        return None
    if pos != len(payload) or set(entries) != set(kset.entries):
        return None
    return entries, objects


def _elf_symbols(obj):
    """``(defined, undefined)`` global symbol names of an ELF64 little-endian object, or None."""
    if obj[:4] != b"\x7fELF" or obj[4] != 2 or obj[5] != 1:
        return None
    shoff, = struct.unpack_from("<Q", obj, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", obj, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", obj, shoff + i * shentsize)
                for i in range(shnum)]
    defined, undefined = set(), set()
    for _, sh_type, _, _, offset, size, link, _, _, entsize in sections:
        if sh_type != 2:  # SHT_SYMTAB
            continue
        str_offset = sections[link][4]
        for pos in range(offset, offset + size, entsize or 24):
            name_at, info, _, shndx = struct.unpack_from("<IBBH", obj, pos)
            if info >> 4 == 0 or name_at == 0:  # local symbol, or no name
                continue
            end = obj.index(b"\0", str_offset + name_at)
            name = obj[str_offset + name_at:end].decode()
            (undefined if shndx == 0 else defined).add(name)
    return defined, undefined


# --- loading ------------------------------------------------------------------------------------


def _extension(numba_dir, module_name, pattern):
    """The numba C extension ``module_name``, loaded by file if numba has not loaded it."""
    module = sys.modules.get(module_name)
    if module is not None:
        return module
    path = _extension_path(numba_dir, pattern)
    loader = importlib.machinery.ExtensionFileLoader(module_name, path)
    spec = importlib.util.spec_from_file_location(module_name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    sys.modules[module_name] = module
    return module


_registered = []  # symbols are registered once per process


def _register_symbols(llvm, numba_dir):
    """The symbols numba registers with LLVM before running cached code (same names, values)."""
    if _registered:
        return
    nrt = _extension(numba_dir, *_EXTENSIONS[0])
    if "numba.core.runtime.nrt" not in sys.modules:
        nrt.memsys_use_cpython_allocator()  # what numba.core.runtime.nrt does on import
    for name, address in nrt.c_helpers.items():
        llvm.add_symbol(name if name.startswith("_") else "NRT_" + name, address)
    for module_name, pattern in _EXTENSIONS[1:]:
        for name, address in _extension(numba_dir, module_name, pattern).c_helpers.items():
            llvm.add_symbol("numba_" + name, address)
    llvm.add_symbol("_Py_NoneStruct", id(None))
    for obj in vars(builtins).values():
        if isinstance(obj, type) and issubclass(obj, BaseException):
            llvm.add_symbol(f"PyExc_{obj.__name__}", id(obj))
    _registered.append(True)


class NativeEntries:
    """A loaded set's entry points, as ctypes functions (they release the GIL while they run)."""

    def __init__(self, kset, engine, addresses, keep):
        self._engine = engine
        self._keep = keep  # the engine's objects must outlive the code
        self.functions = {}
        for name, kinds in kset.entries.items():
            args = [ctypes.c_void_p if k.startswith("*") else ctypes.c_int64 for k in kinds]
            self.functions[name] = ctypes.CFUNCTYPE(None, *args)(addresses[name])


def load(kset):
    """A set's ``NativeEntries``, or None (no valid saved code: use the numba kernels).

    Tried once per process and set; thread-safe.
    """
    with _lock:
        if kset.name not in _loaded:
            _loaded[kset.name] = _load(kset)
        return _loaded[kset.name]


def loaded(kset):
    """The set's ``NativeEntries`` if this process loaded them already, else None (no load)."""
    return _loaded.get(kset.name)


def _load(kset):
    try:
        import llvmlite.binding as llvm
    except ImportError:
        return None
    try:
        with open(native_path(kset), "rb") as f:
            # machine code runs as this user: never from a file someone else owns or may change
            # (the cache folder can be a shared one)
            if not owned_by_this_user(None, fd=f.fileno()):
                return None
            data = f.read()
    except OSError:
        return None
    try:
        return _load_data(llvm, data, kset)
    except Exception:  # noqa: BLE001 - whatever fails here, the numba kernels give the same bits
        return None


def _load_data(llvm, data, kset):
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    key = _key(llvm, kset)
    unpacked = None if key is None else _unpack(data, key, kset)
    if unpacked is None:
        return None
    entries, objects = unpacked
    symbols = [_elf_symbols(o) for o in objects]
    if any(s is None for s in symbols):
        return None
    defined = set().union(*(d for d, _ in symbols))
    if not set(entries.values()) <= defined:
        return None
    _register_symbols(llvm, _numba_dir())
    target = llvm.Target.from_default_triple()
    machine = target.create_target_machine(cpu=llvm.get_host_cpu_name(), reloc="static",
                                           codemodel="jitdefault", jit=True)
    module = llvm.parse_assembly("")
    module.triple = llvm.get_process_triple()
    # (creating the engine makes the process's own symbols, libc and Python's, visible)
    engine = llvm.create_mcjit_compiler(module, machine)
    for name in set().union(*(u for _, u in symbols)) - defined:
        if not llvm.address_of_symbol(name):
            return None  # MCJIT would abort the process on it
    files = [llvm.ObjectFileRef.from_data(o) for o in objects]
    for obj in files:
        engine.add_object_file(obj)
    engine.finalize_object()
    addresses = {name: engine.get_function_address(symbol) for name, symbol in entries.items()}
    if not all(addresses.values()):
        return None
    return NativeEntries(kset, engine, addresses, (module, machine, files))


# --- building -----------------------------------------------------------------------------------


def can_build(kset):
    """Whether ``build`` can save code that ``load`` reads: an ELF platform (Linux) with a
    writable cache directory, and no failed build of the same key before. No numba import.
    """
    if not sys.platform.startswith("linux") or _numba_dir() is None:
        return False
    try:
        with open(native_path(kset) + _FAILED, "rb") as f:
            if f.read() == _current_key(kset):
                return False  # this compiler failed on these sources: not seconds every run
    except OSError:
        pass
    folder = os.path.dirname(native_path(kset))
    while not os.path.isdir(folder):  # makedirs creates it from the nearest existing parent
        parent = os.path.dirname(folder)
        if parent == folder:
            return False
        folder = parent
    return os.access(folder, os.W_OK)


def build(kset):
    """Compile a set's entries with numba and save their object code; True when the file is
    written.

    Imports numba (seconds of compilation the first time in a process). Writes nothing when the
    cache directory is not writable. The next ``load(kset)`` in a new process loads it.
    """
    import importlib

    from numba.core.runtime import nrt

    key = _current_key(kset)
    if key is None:
        return False
    try:
        cfuncs = importlib.import_module(kset.compiler).compile_entries()
        libraries = [nrt.rtsys.library] + [c._library for c in cfuncs.values()]
        objects = [_object_code(lib) for lib in libraries]
    except Exception:
        _write_atomically(native_path(kset) + _FAILED, key)  # can_build() says no for this key
        raise
    entries = {name: c.native_name for name, c in cfuncs.items()}
    if any(_elf_symbols(o) is None for o in objects):
        return False  # not an ELF platform: this loader does not read its objects
    return _write_atomically(native_path(kset), _pack(key, entries, objects))


_FAILED = ".failed"  # next to the saved code: the key of a build that raised


def _current_key(kset):
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    return _key(llvm, kset)


def _object_code(library):
    """Object code of a finalized numba code library, by the target machine numba's JIT uses."""
    import llvmlite.binding as llvm

    module = llvm.parse_bitcode(library._final_module.as_bitcode())  # a copy: the JIT owns it
    return bytes(library._codegen._tm.emit_object(module))


def _write_atomically(path, data):
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".native-", dir=folder)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; numba's cache files are not
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
    return True

