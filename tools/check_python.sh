#!/bin/sh
# Usage: tools/check_python.sh PYTHON [TARGET]
# Exits 0 when the interpreter PYTHON runs and its version lies in pyproject.toml's
# requires-python (e.g. ">=3.11,<3.15"). Otherwise prints one line naming the interpreter,
# its version and the range, and how to choose another (`make TARGET PYTHON=...`), and
# exits 1. Plain sh and the interpreter's `-c`: it must work on any Python, old or new.
python=$1
target=${2:-grade}
here=$(dirname "$0")
range=$(sed -n 's/^requires-python *= *"\(.*\)".*/\1/p' "$here/../pyproject.toml")
hint="choose another with: make $target PYTHON=/path/to/python3.12"

# 3.11.2 -> 3011002, for integer comparison; missing parts count as 0.
key() {
    echo "$1" | awk -F. '{ printf "%d%03d%03d\n", $1, $2, $3 }'
}

version=$("$python" -c 'import sys; print("%d.%d.%d" % tuple(sys.version_info[:3]))' 2>/dev/null)
case $version in
    [0-9]*.[0-9]*.[0-9]*) ;;
    *)
        echo "$python does not run as a Python interpreter; the kit needs Python $range: $hint" >&2
        exit 1 ;;
esac

# Name it as given, and where it lives when found on PATH.
where=$(command -v "$python" 2>/dev/null)
case $where in
    "$python" | "") name=$python ;;
    *) name="$python ($where)" ;;
esac

have=$(key "$version")
inside=yes
old_ifs=$IFS
IFS=,
for spec in $range; do
    IFS=$old_ifs
    spec=$(echo "$spec" | tr -d ' ')
    case $spec in
        '>='*) [ "$have" -ge "$(key "${spec#>=}")" ] || inside=no ;;
        '<='*) [ "$have" -le "$(key "${spec#<=}")" ] || inside=no ;;
        '>'*) [ "$have" -gt "$(key "${spec#>}")" ] || inside=no ;;
        '<'*) [ "$have" -lt "$(key "${spec#<}")" ] || inside=no ;;
        *) echo "pyproject.toml: requires-python part '$spec' is not understood here" >&2
           exit 2 ;;
    esac
done
IFS=$old_ifs

if [ "$inside" = no ]; then
    echo "$name is Python $version, outside the kit's supported range $range (pyproject.toml requires-python): $hint" >&2
    exit 1
fi
