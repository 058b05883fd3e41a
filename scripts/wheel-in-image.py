#!/usr/bin/env python3
"""Check that an image tarball holds exactly the given wheel, installed unchanged.

    scripts/wheel-in-image.py IMAGE_TAR WHEEL [SHA256]

IMAGE_TAR is a docker-archive (Kaniko --tar-path, podman/docker save; gzip or plain
layers, or an OCI-style archive with a manifest.json). WHEEL is the wheel file the
build-wheel step wrote; SHA256, when given, is the digest that step reported.

Passes (exit 0) only when
- the wheel's own sha256 is SHA256 (when given),
- the image's installed ``<dist>-<version>.dist-info/direct_url.json`` says pip
  installed it from an archive with that same sha256 (pip computes it at install), and
- every file of the wheel's RECORD outside its .dist-info is in the image's installed
  RECORD with the same hash (nothing rebuilt, nothing patched).
Prints ``wheel-in-image: <wheel> sha256 <hex> OK`` and, with --result FILE, writes the
sha256 into FILE (a Tekton result). Exit codes: 0 same wheel, 1 not the same or not
found, 2 bad usage or unreadable input. Standard library only: it runs in any python3.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import re
import sys
import tarfile
import zipfile
from pathlib import Path


class MismatchError(Exception):
    """The image does not hold the wheel unchanged."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def wheel_record(wheel: Path) -> tuple[str, set[tuple[str, str]]]:
    """The wheel's .dist-info folder name and its RECORD's (path, hash) pairs outside it."""
    with zipfile.ZipFile(wheel) as archive:
        records = [n for n in archive.namelist() if n.endswith(".dist-info/RECORD")]
        if len(records) != 1:
            raise ValueError(f"{wheel.name}: expected one .dist-info/RECORD, found {records}")
        dist_info = records[0].split("/", 1)[0]
        text = archive.read(records[0]).decode("utf-8")
    return dist_info, _files(text, dist_info)


def _files(record: str, dist_info: str) -> set[tuple[str, str]]:
    """(path, hash) of each hashed file in RECORD, except the .dist-info and bytecode."""
    pairs = set()
    for row in csv.reader(io.StringIO(record)):
        if len(row) < 2 or not row[1] or row[0].startswith(f"{dist_info}/"):
            continue
        if row[0].endswith(".pyc"):
            continue
        pairs.add((row[0], row[1]))
    return pairs


def installed_files(image_tar: Path, dist_info: str) -> dict[str, bytes]:
    """direct_url.json and RECORD of DIST_INFO as the image's top-most layer has them."""
    wanted = re.compile(
        rf"^(?:\./)?(?:.+/)?site-packages/{re.escape(dist_info)}/(direct_url\.json|RECORD)$"
    )
    found: dict[str, bytes] = {}
    with tarfile.open(image_tar) as outer:
        manifest = json.load(_member(outer, "manifest.json"))
        if not manifest or "Layers" not in manifest[0]:
            raise ValueError(f"{image_tar}: manifest.json lists no layers")
        for layer_name in manifest[0]["Layers"]:
            # Layers are applied in order, so a later layer's copy wins.
            with tarfile.open(fileobj=_member(outer, layer_name), mode="r:*") as layer:
                for member in layer:
                    match = wanted.match(member.name)
                    if match and member.isfile():
                        extracted = layer.extractfile(member)
                        if extracted is not None:
                            found[match.group(1)] = extracted.read()
    return found


def _member(archive: tarfile.TarFile, name: str) -> io.BufferedReader:
    extracted = archive.extractfile(name)
    if extracted is None:
        raise ValueError(f"{name} is not a file in the image archive")
    return extracted  # type: ignore[return-value]


def check(image_tar: Path, wheel: Path, expected: str | None) -> str:
    """The wheel's sha256 when the image holds it unchanged; MismatchError otherwise."""
    actual = sha256_of(wheel)
    if expected is not None and actual != expected.strip().lower():
        raise MismatchError(f"{wheel.name} has sha256 {actual}, build-wheel reported {expected}")
    dist_info, wheel_files = wheel_record(wheel)
    installed = installed_files(image_tar, dist_info)
    if "direct_url.json" not in installed:
        raise MismatchError(
            f"the image has no {dist_info}/direct_url.json: {wheel.name} not installed"
        )
    archive_info = json.loads(installed["direct_url.json"]).get("archive_info") or {}
    installed_hash = (archive_info.get("hashes") or {}).get("sha256") or str(
        archive_info.get("hash", "")
    ).removeprefix("sha256=")
    if installed_hash != actual:
        raise MismatchError(
            f"the image's {dist_info} was installed from an archive with sha256"
            f" {installed_hash or '(none recorded)'}, not {wheel.name} ({actual})"
        )
    image_files = _files(installed.get("RECORD", b"").decode("utf-8"), dist_info)
    if missing := sorted(wheel_files - image_files):
        raise MismatchError(
            f"{len(missing)} file(s) of the wheel differ in the image, e.g. {missing[0]}"
        )
    return actual


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("image_tar", type=Path)
    parser.add_argument("wheel", type=Path)
    parser.add_argument("sha256", nargs="?", default=None)
    parser.add_argument("--result", type=Path, help="write the wheel's sha256 here on success")
    args = parser.parse_args(argv)
    try:
        digest = check(args.image_tar, args.wheel, args.sha256)
    except MismatchError as error:
        print(f"wheel-in-image: NOT THE SAME WHEEL: {error}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, tarfile.TarError, zipfile.BadZipFile) as error:
        print(f"wheel-in-image: cannot read the inputs: {error}", file=sys.stderr)
        return 2
    if args.result is not None:
        args.result.write_text(digest, encoding="utf-8")
    print(f"wheel-in-image: {args.wheel.name} sha256 {digest} OK (installed in {args.image_tar})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
