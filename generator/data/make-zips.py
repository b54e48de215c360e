#!/usr/bin/env python3
"""Rebuilds generator/data/zips.psv.gz, the zip code list `generator seed` embeds.

Source: the PyPI package `zipcodes` 1.3.0 (MIT licence, data of February 2025),
whose wheel ships every US zip code with its state, county and city as
zipcodes/zips.json.bz2. Later releases hide the data in a compiled module, so
the version is pinned.

    python3 generator/data/make-zips.py            # downloads the wheel with pip
    python3 generator/data/make-zips.py WHEEL.whl  # or reads one you already have

Output: gzip'ed UTF-8 text, one active zip code per line, sorted by zip:

    zip|type|state|county|city        e.g. 00501|U|NY|Suffolk County|Holtsville

type is S (standard), P (PO boxes only), U (one organisation) or M (military);
county is empty where the source has none (military and some unique zips).
The gzip header carries no timestamp, so the same input gives the same bytes.
"""

import bz2
import gzip
import io
import json
import pathlib
import subprocess
import sys
import tempfile
import zipfile

VERSION = "1.3.0"
OUT = pathlib.Path(__file__).resolve().parent / "zips.psv.gz"
TYPES = {"STANDARD": "S", "PO BOX": "P", "UNIQUE": "U", "MILITARY": "M"}


def wheel_path(tmp: str) -> pathlib.Path:
    if len(sys.argv) > 1:
        return pathlib.Path(sys.argv[1])
    subprocess.run(
        [sys.executable, "-m", "pip", "download", f"zipcodes=={VERSION}",
         "--no-deps", "--only-binary", ":all:", "-d", tmp],
        check=True,
    )
    return next(pathlib.Path(tmp).glob("zipcodes-*.whl"))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(wheel_path(tmp)) as wheel:
            records = json.loads(bz2.decompress(wheel.read("zipcodes/zips.json.bz2")))
    lines = []
    for r in sorted(records, key=lambda r: r["zip_code"]):
        if not r["active"]:
            continue  # retired zip codes: nobody lives there any more
        fields = [r["zip_code"], TYPES[r["zip_code_type"]], r["state"],
                  r["county"] or "", r["city"]]
        for f in fields:
            if "|" in f or "\n" in f:
                sys.exit(f"field {f!r} of zip {r['zip_code']} holds a separator")
        if len(r["zip_code"]) != 5 or not r["zip_code"].isdigit():
            sys.exit(f"zip {r['zip_code']!r} is not five digits")
        lines.append("|".join(fields))
    text = ("\n".join(lines) + "\n").encode("utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0, filename="") as gz:
        gz.write(text)
    OUT.write_bytes(buf.getvalue())
    print(f"wrote {OUT} ({len(lines)} zip codes, {len(buf.getvalue())} bytes)")


if __name__ == "__main__":
    main()
