#!/usr/bin/python3
"""The longest functions in a folder of src/ (docs/architecture.md).

usage: tools/function_length.py [--max N] [--most K] FOLDER...
  Lists the K longest function bodies (default 5) in FOLDER/*.cpp under src/, in lines from the
  line of the opening brace's statement to the closing brace. With --max N, exits 1 if any is
  longer than N lines.

A function is a brace block opened at namespace scope (outside any other function, class or
initialiser) whose head ends with ')' plus qualifiers (const, override, noexcept, a trailing
return type). Lambdas and member functions defined in class bodies count as part of what holds
them. Comments and string literals are skipped.
"""
import os
import re
import sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
HEAD = re.compile(r"\)\s*(const\s*)?(noexcept\s*)?(override\s*)?(->\s*[\w:<>,\s&*]+)?$")


def strip(text):
    """Code with comments, strings and character literals blanked (newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(path):
    code = strip(open(path, encoding="utf-8").read())
    lines_before = lambda pos: code.count("\n", 0, pos) + 1
    found, stack, i = [], [], 0
    for m in re.finditer(r"[{}]", code):
        pos = m.start()
        if m.group() == "{":
            head = code[i:pos].rstrip()
            kind = "block"
            if not any(k == "function" or k == "class" for k, _, _ in stack):
                if HEAD.search(head) and not re.search(r"\b(class|struct|enum|union)\b[^;]*$",
                                                       head.split(";")[-1]):
                    kind = "function"
                elif re.search(r"\b(class|struct|union)\b", head.split(";")[-1]):
                    kind = "class"
            start = head.rfind(";")
            start = max(start, head.rfind("}"))
            sig = head[start + 1:].strip()
            stack.append((kind, pos, sig))
        else:
            if stack:
                kind, open_pos, sig = stack.pop()
                if kind == "function":
                    first = lines_before(open_pos - len(code[:open_pos]) + len(code[:open_pos].rstrip()))
                    sig_line = lines_before(code.rfind(sig.split("\n")[0], 0, open_pos)) if sig else first
                    found.append((lines_before(pos) - sig_line + 1, sig_line,
                                  " ".join(sig.split())[:90]))
        i = pos + 1
    return found


def main(argv):
    limit, most, folders = None, 5, []
    it = iter(argv)
    for a in it:
        if a == "--max":
            limit = int(next(it))
        elif a == "--most":
            most = int(next(it))
        else:
            folders.append(a)
    rows = []
    for folder in folders or ["run"]:
        d = os.path.join(SRC, folder)
        for name in sorted(os.listdir(d)):
            if name.endswith(".cpp"):
                for n, line, sig in functions(os.path.join(d, name)):
                    rows.append((n, f"src/{folder}/{name}:{line}", sig))
    rows.sort(reverse=True)
    for n, where, sig in rows[:most]:
        print(f"{n:5} lines  {where}  {sig}")
    if limit is not None and rows and rows[0][0] > limit:
        print(f"function_length: {rows[0][1]} is {rows[0][0]} lines, more than {limit}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
