#!/usr/bin/python3
"""Writes torch.save-style zip files whose data.pkl calls a shell command when unpickled,
for PruneLab's refusal test (tests/parity/test_pt_checkpoint.cpp).

  evil_os_system.pt      GLOBAL 'os system'      + REDUCE   (protocol 0 opcodes)
  evil_posix_system.pt   STACK_GLOBAL posix.system + REDUCE (protocol 4 opcodes)
  evil_builtins_eval.pt  GLOBAL 'builtins eval'  + REDUCE, running os.system through eval
  evil_in_model.pt       a checkpoint dict whose 'model' is an os.system call
Each payload runs `touch MARKER` with MARKER = --marker (PruneLab must never create it).
To show that the payloads are real, the same pickles are loaded with Python's pickle
with the marker path replaced by --proof-marker: those files must exist afterwards.
"""
import argparse
import os
import pickle
import zipfile


def p0_string(s):
    return b"S'" + s.encode() + b"'\n"


def unicode4(s):
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


def payloads(marker):
    cmd = "touch " + marker
    return {
        "evil_os_system.pt": b"cos\nsystem\n(" + p0_string(cmd) + b"tR.",
        "evil_posix_system.pt": b"\x80\x04" + unicode4("posix") + unicode4("system") + b"\x93" + unicode4(cmd) +
                                b"\x85R.",
        "evil_builtins_eval.pt": b"cbuiltins\neval\n(" + p0_string("__import__('os').system('" + cmd + "')") +
                                 b"tR.",
        "evil_in_model.pt": b"\x80\x02}(" + b"X\x05\x00\x00\x00model" + b"cos\nsystem\n(" + p0_string(cmd) + b"tR" +
                            b"X\x03\x00\x00\x00emaNu.",
    }


def write_zip(path, pkl):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/version", "3\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--marker", required=True)
    ap.add_argument("--proof-marker", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for name, pkl in payloads(a.marker).items():
        write_zip(os.path.join(a.out, name), pkl)
    for name, pkl in payloads(a.proof_marker).items():
        if os.path.exists(a.proof_marker):
            os.remove(a.proof_marker)
        pickle.loads(pkl)
        if not os.path.exists(a.proof_marker):
            raise SystemExit(f"{name}: the payload did not run under Python's pickle; the test would prove nothing")
    os.remove(a.proof_marker)
    print("wrote", a.out)


if __name__ == "__main__":
    main()
