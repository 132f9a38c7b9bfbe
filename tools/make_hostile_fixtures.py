#!/usr/bin/env python3
"""Hostile pytorch_model.bin files for Verdict's checkpoint-reader tests (standard library only).

Usage: python3 tools/make_hostile_fixtures.py Fixtures/hostile

Each file is a zip laid out like torch.save's, whose data.pkl does something a state dict never does:
  os-system.bin        GLOBAL posix.system + REDUCE (the classic pickle exploit)
  builtins-eval.bin    STACK_GLOBAL builtins.eval
  not-a-dict.bin       a list at the top level
  storage-overrun.bin  a tensor view reaching past its storage
  path-key.bin         a storage key with '../'
"""
import io, os, pickle, struct, sys, zipfile


def archive(path, pkl, storages=None):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/version", "3\n")
        for k, v in (storages or {}).items():
            z.writestr(f"archive/data/{k}", v)


def tensor_pickle(key, offset, size, stride):
    # OrderedDict{"w": _rebuild_tensor_v2(persistent(('storage', FloatStorage, key, 'cpu', n)), offset, size, stride, False, OrderedDict())}
    p = b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01X\x01\x00\x00\x00wq\x02ctorch._utils\n_rebuild_tensor_v2\nq\x03("
    p += b"(X\x07\x00\x00\x00storageq\x04ctorch\nFloatStorage\nq\x05X" + struct.pack("<I", len(key)) + key.encode()
    p += b"X\x03\x00\x00\x00cpuK\x04tQ"
    p += b"K" + bytes([offset]) + b"K" + bytes([size[0]]) + b"\x85K" + bytes([stride[0]]) + b"\x85\x89ccollections\nOrderedDict\n)RtR"
    p += b"s."
    return p


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "Fixtures/hostile"
    os.makedirs(out, exist_ok=True)
    archive(os.path.join(out, "os-system.bin"), b"\x80\x02cposix\nsystem\nX\x04\x00\x00\x00trueq\x00\x85R.")
    archive(os.path.join(out, "builtins-eval.bin"), b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93\x8c\x011\x85R.")
    archive(os.path.join(out, "not-a-dict.bin"), pickle.dumps([1, 2, 3], protocol=2))
    archive(os.path.join(out, "storage-overrun.bin"), tensor_pickle("0", 2, (4,), (1,)), {"0": struct.pack("<4f", 1, 2, 3, 4)})
    archive(os.path.join(out, "path-key.bin"), tensor_pickle("../0", 0, (4,), (1,)), {"0": struct.pack("<4f", 1, 2, 3, 4)})
    archive(os.path.join(out, "valid.bin"), tensor_pickle("0", 0, (4,), (1,)), {"0": struct.pack("<4f", 1, 2, 3, 4)})


if __name__ == "__main__":
    main()
