"""Publish a built site to `<publish_dir>/<YYYY-MM-DD>/` and point `latest` at it.

The dated folder is copied beside its final name and renamed into place, and `latest` is
replaced atomically, so a reader never sees half a site and a failed build leaves the last
published site untouched. Only the newest `keep_days` dated folders are kept.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import date
from pathlib import Path

_DATED = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def publish_site(site_dir: Path, publish_dir: Path, *, day: date, keep_days: int) -> Path:
    publish_dir.mkdir(parents=True, exist_ok=True)
    target = publish_dir / day.isoformat()
    incoming = publish_dir / f".{day.isoformat()}.incoming"
    shutil.rmtree(incoming, ignore_errors=True)
    shutil.copytree(site_dir, incoming)
    # A rebuild of the same day: move the old copy aside first so the swap is two renames.
    old = publish_dir / f".{day.isoformat()}.old"
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    incoming.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    link = publish_dir / "latest"
    tmp_link = publish_dir / ".latest.new"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    tmp_link.symlink_to(target.name)
    os.replace(tmp_link, link)
    dated = sorted(p for p in publish_dir.iterdir() if p.is_dir() and _DATED.match(p.name))
    for old in dated[:-keep_days] if keep_days > 0 else []:
        shutil.rmtree(old)
    return target
