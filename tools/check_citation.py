#!/usr/bin/python3
"""Checks CITATION.cff (Citation File Format 1.2.0) against the project: YAML that parses, the
keys of the format only, the required ones present (cff-version, message, title, authors), the
version of the CMake project, and the license of LICENSE (SPDX id).

usage: check_citation.py SOURCE_DIR PROJECT_VERSION
Exit 0 when it holds; 1 with one line per problem otherwise."""
import pathlib
import sys

import yaml

KEYS = {"abstract", "authors", "cff-version", "commit", "contact", "date-released", "doi",
        "identifiers", "keywords", "license", "license-url", "message", "preferred-citation",
        "references", "repository", "repository-artifact", "repository-code", "title", "type",
        "url", "version"}
PERSON = {"family-names", "given-names", "name-particle", "name-suffix", "affiliation", "address",
          "city", "country", "email", "fax", "orcid", "post-code", "region", "tel", "website",
          "alias"}
ENTITY = {"name", "address", "city", "country", "email", "fax", "orcid", "post-code", "region",
          "tel", "website", "alias", "date-start", "date-end", "location"}
LICENSES = {"BSD 3-Clause License": "BSD-3-Clause"}


def problems(root: pathlib.Path, version: str):
    try:
        cff = yaml.safe_load((root / "CITATION.cff").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        yield f"CITATION.cff: {e}"
        return
    if not isinstance(cff, dict):
        yield "CITATION.cff: not a YAML mapping"
        return
    for k in sorted(set(cff) - KEYS):
        yield f"CITATION.cff: {k}: not a key of CFF 1.2.0"
    for k in ("cff-version", "message", "title", "authors"):
        if k not in cff:
            yield f"CITATION.cff: {k}: missing (required by CFF 1.2.0)"
    if cff.get("cff-version") != "1.2.0":
        yield f"CITATION.cff: cff-version: {cff.get('cff-version')!r}, expected '1.2.0'"
    for k in ("message", "title", "abstract"):
        if k in cff and not (isinstance(cff[k], str) and cff[k].strip()):
            yield f"CITATION.cff: {k}: expected a non-empty string"
    authors = cff.get("authors")
    if not isinstance(authors, list) or not authors:
        yield "CITATION.cff: authors: expected a non-empty list"
    else:
        for i, a in enumerate(authors):
            if not isinstance(a, dict) or not a:
                yield f"CITATION.cff: authors[{i}]: expected a person or an entity"
            elif "name" in a:
                if set(a) - ENTITY:
                    yield f"CITATION.cff: authors[{i}]: keys {sorted(set(a) - ENTITY)} not of an entity"
            elif set(a) - PERSON or not ({"family-names", "given-names"} & set(a)):
                yield f"CITATION.cff: authors[{i}]: not a person (family-names, given-names)"
    if cff.get("type", "software") not in ("software", "dataset"):
        yield f"CITATION.cff: type: {cff['type']!r}, expected software or dataset"
    if str(cff.get("version")) != version:
        yield f"CITATION.cff: version: {cff.get('version')!r}, the project is {version}"
    first = (root / "LICENSE").read_text(encoding="utf-8").splitlines()[0].strip()
    spdx = LICENSES.get(first)
    if spdx is None:
        yield f"LICENSE: unknown license '{first}'"
    elif cff.get("license") != spdx:
        yield f"CITATION.cff: license: {cff.get('license')!r}, LICENSE is {spdx}"
    keywords = cff.get("keywords", [])
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        yield "CITATION.cff: keywords: expected a list of strings"


def main():
    if len(sys.argv) != 3:
        print("usage: check_citation.py SOURCE_DIR PROJECT_VERSION", file=sys.stderr)
        return 2
    found = list(problems(pathlib.Path(sys.argv[1]), sys.argv[2]))
    for p in found:
        print(p)
    if not found:
        print("CITATION.cff: valid CFF 1.2.0, version and license agree with the project")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
