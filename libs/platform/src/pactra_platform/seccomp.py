"""A seccomp filter for the sandbox child, built as a classic BPF program with the standard
library only (no libseccomp binding to install).

It is a deny list, not an allow list: the PDF libraries' exact syscalls vary with versions
and inputs, and an allow list that misses one turns every upload into a refusal. What it
denies is what a parser never needs and an exploit wants first: any new socket (so no network
even where no network namespace could be made), starting programs or processes (threads
are allowed), looking into or signalling other processes, and the kernel interfaces that
are the usual privilege-escalation surface (namespaces, mounts, modules, bpf, io_uring,
keyrings, userfaultfd, perf). Denied calls fail with ``EPERM``; a call of a foreign ABI
(x32, i386) kills the process, so the deny list cannot be bypassed by syscall numbering.

Only x86-64 and aarch64 are described; elsewhere :func:`supported` is False and the sandbox
runs without a filter (and says so in its start-up line).
"""

import ctypes
import errno
import os
import platform
import struct

# linux/filter.h, linux/seccomp.h, linux/audit.h
_BPF_LD_W_ABS = 0x20
_BPF_JEQ_K = 0x15
_BPF_JGE_K = 0x35
_BPF_JSET_K = 0x45
_BPF_RET_K = 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_RET_KILL_PROCESS = 0x80000000
_OFFSET_NR, _OFFSET_ARCH, _OFFSET_ARG0_LOW = 0, 4, 16
_CLONE_THREAD = 0x00010000
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2

_DENIED_NAMES = (
    # network; socketpair stays (a connected pair of this process's own, which asyncio's
    # event loop needs, as pyHanko's validator runs one), socket() is what reaches anything.
    "socket", "connect", "accept", "accept4", "bind", "listen",
    # other programs and processes (clone is checked for CLONE_THREAD below)
    "execve", "execveat", "fork", "vfork",
    # other processes
    "ptrace", "process_vm_readv", "process_vm_writev", "kill", "tkill", "kcmp", "pidfd_open",
    "pidfd_getfd",
    # kernel attack surface
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "init_module",
    "finit_module", "delete_module", "kexec_load", "reboot", "swapon", "swapoff", "bpf",
    "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key", "io_uring_setup",
    "io_uring_enter", "io_uring_register", "open_by_handle_at", "name_to_handle_at",
    "personality", "acct",
)

_ARCHES = {
    # machine: (AUDIT_ARCH, syscall numbers, first number of a foreign ABI or None)
    "x86_64": (0xC000003E, {
        "socket": 41, "socketpair": 53, "connect": 42, "accept": 43, "accept4": 288,
        "bind": 49, "listen": 50, "execve": 59, "execveat": 322, "fork": 57, "vfork": 58,
        "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "kill": 62,
        "tkill": 200, "kcmp": 312, "pidfd_open": 434, "pidfd_getfd": 438, "mount": 165,
        "umount2": 166, "pivot_root": 155, "chroot": 161, "unshare": 272, "setns": 308,
        "init_module": 175, "finit_module": 313, "delete_module": 176, "kexec_load": 246,
        "reboot": 169, "swapon": 167, "swapoff": 168, "bpf": 321, "perf_event_open": 298,
        "userfaultfd": 323, "keyctl": 250, "add_key": 248, "request_key": 249,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
        "open_by_handle_at": 304, "name_to_handle_at": 303, "personality": 135, "acct": 163,
        "clone": 56, "clone3": 435,
    }, 0x40000000),
    "aarch64": (0xC00000B7, {
        "socket": 198, "socketpair": 199, "connect": 203, "accept": 202, "accept4": 242,
        "bind": 200, "listen": 201, "execve": 221, "execveat": 281, "ptrace": 117,
        "process_vm_readv": 270, "process_vm_writev": 271, "kill": 129, "tkill": 130,
        "kcmp": 272, "pidfd_open": 434, "pidfd_getfd": 438, "mount": 40, "umount2": 39,
        "pivot_root": 41, "chroot": 51, "unshare": 97, "setns": 268, "init_module": 105,
        "finit_module": 273, "delete_module": 106, "kexec_load": 104, "reboot": 142,
        "swapon": 224, "swapoff": 225, "bpf": 280, "perf_event_open": 241,
        "userfaultfd": 282, "keyctl": 219, "add_key": 217, "request_key": 218,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
        "open_by_handle_at": 265, "name_to_handle_at": 264, "personality": 92, "acct": 89,
        "clone": 220, "clone3": 435,
    }, None),
}


def supported() -> bool:
    return platform.machine() in _ARCHES and platform.system() == "Linux"


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def program() -> bytes:
    """The filter as ``struct sock_filter[]`` bytes for this machine."""
    arch, numbers, foreign = _ARCHES[platform.machine()]
    deny = _RET_ERRNO | errno.EPERM
    out = [
        _insn(_BPF_LD_W_ABS, 0, 0, _OFFSET_ARCH),
        _insn(_BPF_JEQ_K, 1, 0, arch),
        _insn(_BPF_RET_K, 0, 0, _RET_KILL_PROCESS),
        _insn(_BPF_LD_W_ABS, 0, 0, _OFFSET_NR),
    ]
    if foreign is not None:
        out += [_insn(_BPF_JGE_K, 0, 1, foreign), _insn(_BPF_RET_K, 0, 0, _RET_KILL_PROCESS)]
    for name in _DENIED_NAMES:
        if name in numbers:
            out += [_insn(_BPF_JEQ_K, 0, 1, numbers[name]), _insn(_BPF_RET_K, 0, 0, deny)]
    # clone3 passes its flags in memory a filter cannot read: ENOSYS makes libc fall back to
    # clone, whose flags it can. A clone without CLONE_THREAD is a new process: denied.
    out += [
        _insn(_BPF_JEQ_K, 0, 1, numbers["clone3"]),
        _insn(_BPF_RET_K, 0, 0, _RET_ERRNO | errno.ENOSYS),
        _insn(_BPF_JEQ_K, 0, 3, numbers["clone"]),
        _insn(_BPF_LD_W_ABS, 0, 0, _OFFSET_ARG0_LOW),
        _insn(_BPF_JSET_K, 1, 0, _CLONE_THREAD),
        _insn(_BPF_RET_K, 0, 0, deny),
        _insn(_BPF_RET_K, 0, 0, _RET_ALLOW),
    ]
    return b"".join(out)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install() -> None:
    """Apply the filter to this process (irrevocably); OSError when the kernel refuses."""
    code = program()
    buffer = ctypes.create_string_buffer(code, len(code))
    fprog = _SockFprog(len(code) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                           ctypes.c_ulong]
    # Without no_new_privs an unprivileged process may not install a filter; it also means
    # nothing the child could still run gains privileges through setuid bits.
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")


def active() -> bool:
    """Whether this process runs under a seccomp filter (``/proc/self/status``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            return any(line.split() == ["Seccomp:", "2"] for line in status)
    except OSError:
        return False


if __name__ == "__main__":  # pragma: no cover - by hand: `python -m pactra_platform.seccomp`
    install()
    print("seccomp active:", active(), "pid", os.getpid())
