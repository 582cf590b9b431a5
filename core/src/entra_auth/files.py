"""Reading and writing files the way ssh and git do: nothing on disk is trusted until checked,
and nothing written is lost or leaks.

Reading (:func:`read_trusted`): a file is opened without blocking (a FIFO given as a path
returns at once instead of waiting for a writer), checked on the open descriptor (so it cannot
be swapped between the check and the read) and read up to a stated size. It must be a regular
file, owned by the user or root, not writable by group or others; a private file (a secret, a
key, a token cache entry) not readable by them either; and the folder that holds it must not be
writable by group or others unless it is sticky (``/tmp``: others cannot replace or remove a
file they do not own there). Every refusal is one ``ConfigurationError`` (exit 2) that names the
path and the exact ``chmod``/``chown`` that fixes it. Only the immediate folder is checked, as
git does for its repositories, not every folder up to ``/`` as ssh does. Ownership and modes are
POSIX notions: elsewhere only the file type and the size are checked.

Writing (:func:`atomic_write_bytes`): every file entra-auth writes is created mode 0600 (in
0700 folders), written to a temporary file in the same folder, fsynced and renamed over the old
one, so a reader sees the old or the new content and never half of either. A path that is a
symbolic link the user made (a dotfiles ``config.toml``) is written through to the link's target,
which keeps its mode, instead of the link being replaced by a file.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import ConfigurationError, EntraAuthError

log = logging.getLogger("entra_auth.files")

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700

MiB = 1024 * 1024
SECRET_LIMIT = 1 * MiB
"""Secret files, certificates, keys, PFX files and CA bundles are read up to 1 MiB."""
CONFIG_LIMIT = 16 * MiB
"""The config file is read up to 16 MiB (about 100,000 profiles)."""
STATE_LIMIT = 1 * MiB
"""The saved connection and each token cache entry are read up to 1 MiB."""

_POSIX = os.name == "posix"
_WRITABLE_BY_OTHERS = stat.S_IWGRP | stat.S_IWOTH
_ACCESSIBLE_BY_OTHERS = stat.S_IRWXG | stat.S_IRWXO


class FileWriteError(ConfigurationError):
    """A file entra-auth writes could not be written (a read-only folder, a full disk)."""


def file_type(mode: int) -> str:
    """What a file of ``mode`` is, in words (``a FIFO (named pipe)``)."""
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


def _user() -> str:
    uid = os.geteuid()
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)


def _trusted_owner(uid: int) -> bool:
    return uid in (os.geteuid(), 0)


def check_folder(
    folder: str | os.PathLike[str],
    what: str,
    *,
    error: type[EntraAuthError] = ConfigurationError,
) -> None:
    """Refuse a folder that others could use to plant or swap files: owned by another user, or
    writable by group or others without the sticky bit. A missing folder passes (it will be
    created 0700)."""
    if not _POSIX:
        return
    path = Path(folder)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return
    except (OSError, ValueError) as exc:
        raise error(f"cannot use the folder {path} that holds {what}: {_reason(exc)}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise error(
            f"{path}, which should be the folder that holds {what}, is "
            f"{file_type(info.st_mode)}; move it away"
        )
    if not _trusted_owner(info.st_uid):
        raise error(
            f"the folder {path} that holds {what} is owned by uid {info.st_uid}, not by you or "
            f"root, so its owner can replace what it holds; run: chown {_user()} {path}"
        )
    if info.st_mode & _WRITABLE_BY_OTHERS and not info.st_mode & stat.S_ISVTX:
        raise error(
            f"the folder {path} that holds {what} is writable by group or others (mode "
            f"{stat.S_IMODE(info.st_mode):04o}), so they could plant or replace it; run: "
            f"chmod go-w {path}"
        )


def read_trusted(
    path: str | os.PathLike[str],
    *,
    limit: int,
    what: str,
    private: bool = False,
    follow_symlinks: bool = True,
    repair: bool = False,
    error: type[EntraAuthError] = ConfigurationError,
) -> bytes:
    """The bytes of ``path``, after the checks described in the module docstring.

    ``what`` names the file in messages (``config file``). ``private`` also refuses a file
    readable by group or others; with ``repair`` (files entra-auth itself created) such a file
    is set to 0600 with one warning instead. ``follow_symlinks=False`` refuses a symbolic link
    (for files only entra-auth creates, in its own folders). ``FileNotFoundError`` passes
    through, so the caller decides what absence means; anything else wrong is ``error``.
    """
    with _open_checked(
        path, what, private=private, follow_symlinks=follow_symlinks, repair=repair, error=error
    ) as (fd, file, info):
        if info.st_size > limit:
            raise error(_too_large(file, what, limit))
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                chunk = os.read(fd, min(MiB, limit + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    raise error(_too_large(file, what, limit))
        except OSError as exc:
            raise error(f"cannot read {what} {file}: {_reason(exc)}") from None
        return b"".join(chunks)


def check_trusted_file(
    path: str | os.PathLike[str],
    *,
    what: str,
    error: type[EntraAuthError] = ConfigurationError,
) -> None:
    """The checks of :func:`read_trusted` without reading (a CA bundle that another library
    reads): it must exist and be a regular file that others cannot write, in a folder that
    others cannot write."""
    try:
        with _open_checked(path, what, error=error):
            pass
    except FileNotFoundError:
        raise error(f"{what} {path} does not exist") from None


@contextlib.contextmanager
def _open_checked(
    path: str | os.PathLike[str],
    what: str,
    *,
    private: bool = False,
    follow_symlinks: bool = True,
    repair: bool = False,
    error: type[EntraAuthError] = ConfigurationError,
) -> Iterator[tuple[int, Path, os.stat_result]]:
    try:
        file = Path(path)
    except TypeError:
        raise error(f"{what}: expected a path, got {type(path).__name__}") from None
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(file, flags)
    except FileNotFoundError:
        raise
    except ValueError:
        raise error(f"{what} path {str(file)!r} contains a NUL character") from None
    except OSError as exc:
        raise error(_open_failure(file, what, exc, follow_symlinks)) from None
    try:
        try:
            info = os.fstat(fd)
        except OSError as exc:
            raise error(f"cannot read {what} {file}: {_reason(exc)}") from None
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{what} {file} is {file_type(info.st_mode)}, not a regular file")
        _check_file(fd, file, info, what, private=private, repair=repair, error=error)
        folders = {os.path.dirname(os.path.abspath(file))}
        if follow_symlinks:
            folders.add(os.path.dirname(os.path.realpath(file)))
        for folder in sorted(folders):
            check_folder(folder, f"{what} {file}", error=error)
        yield fd, file, info
    finally:
        os.close(fd)


def _check_file(
    fd: int,
    file: Path,
    info: os.stat_result,
    what: str,
    *,
    private: bool,
    repair: bool,
    error: type[EntraAuthError],
) -> None:
    if not _POSIX:
        return
    mode = stat.S_IMODE(info.st_mode)
    if not _trusted_owner(info.st_uid):
        raise error(
            f"{what} {file} is owned by uid {info.st_uid}, not by you or root, so its owner "
            f"decides what it says; run: chown {_user()} {file}"
        )
    if private and mode & _ACCESSIBLE_BY_OTHERS:
        if repair and not mode & _WRITABLE_BY_OTHERS:
            os.fchmod(fd, PRIVATE_FILE_MODE)
            log.warning(
                "%s %s was readable by group or others (mode %04o); set it to 0600",
                what,
                file,
                mode,
            )
            return
        raise error(
            f"{what} {file} is accessible by group or others (mode {mode:04o}) and must be "
            f"private; run: chmod 600 {file}"
        )
    if mode & _WRITABLE_BY_OTHERS:
        raise error(
            f"{what} {file} is writable by group or others (mode {mode:04o}), so they could "
            f"change it; run: chmod go-w {file}"
        )


def _open_failure(file: Path, what: str, exc: OSError, follow_symlinks: bool) -> str:
    if exc.errno == errno.ELOOP and not follow_symlinks:
        return (
            f"{what} {file} is a symbolic link, which entra-auth does not follow for a file it "
            f"keeps itself; remove it: rm {file}"
        )
    try:
        info = os.lstat(file)
    except OSError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode) and not stat.S_ISLNK(info.st_mode):
        return f"{what} {file} is {file_type(info.st_mode)}, not a regular file"
    return f"cannot read {what} {file}: {_reason(exc)}"


def _too_large(file: Path, what: str, limit: int) -> str:
    return (
        f"{what} {file} is larger than {_size(limit)}, the most entra-auth reads for it; "
        "give the right file"
    )


def _size(limit: int) -> str:
    return f"{limit // MiB} MiB" if limit % MiB == 0 else f"{limit} bytes"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower() if exc.strerror[:1].isupper() else exc.strerror
    return str(exc) or type(exc).__name__


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents as 0700 (``mkdir(parents=True)`` would give the
    parents the umask's mode, e.g. a 0755 ``entra-auth`` state folder above a 0700 ``tokens``);
    leave an existing folder's mode. 0700 is also what the XDG spec asks for."""
    missing: list[Path] = []
    folder = Path(path)
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        folder.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
    return path


def write_target(path: Path) -> Path:
    """Where a write of ``path`` lands: the target of a symbolic link the user made (followed to
    its end, even when the target does not exist yet), else ``path`` itself."""
    path = Path(path)
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def atomic_write_bytes(
    path: Path,
    data: bytes,
    *,
    mode: int = PRIVATE_FILE_MODE,
    what: str = "file",
) -> Path:
    """Replace ``path`` with ``data`` atomically (temp file, fsync, rename, fsync folder); the
    path written. When ``path`` is a symbolic link the user made, its target is replaced and
    keeps its mode (the link stays a link); otherwise the file gets ``mode``. Failures are
    ``FileWriteError`` naming the path."""
    target = Path(path)
    try:
        target = write_target(target)
        if target != Path(path):
            with contextlib.suppress(FileNotFoundError):
                mode = stat.S_IMODE(os.stat(target).st_mode)
        ensure_private_dir(target.parent)
        import tempfile  # writes are rare; keep it off every command's import path

        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except (OSError, ValueError) as exc:
        raise FileWriteError(f"cannot write {what} {target}: {_reason(exc)}") from None
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError):
            raise FileWriteError(f"cannot write {what} {target}: {_reason(exc)}") from None
        raise
    _fsync_dir(target.parent)
    return target


def atomic_write_text(
    path: Path,
    text: str,
    *,
    mode: int = PRIVATE_FILE_MODE,
    what: str = "file",
) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"), mode=mode, what=what)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``<path>.lock`` for read-modify-write cycles between
    processes (config edits, the shared token cache)."""
    import fcntl

    lock_path = Path(str(path) + ".lock")
    try:
        ensure_private_dir(lock_path.parent)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    except (OSError, ValueError) as exc:
        raise FileWriteError(f"cannot lock {path} (through {lock_path}): {_reason(exc)}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def json_object(raw: bytes) -> dict[str, Any]:
    """The JSON object in ``raw`` (a file entra-auth wrote); ``ValueError`` saying what is
    wrong with anything else, for the caller to report as damage."""
    import json

    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 at byte {exc.start}") from None
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"a JSON {type(data).__name__}, not an object")
    return data
