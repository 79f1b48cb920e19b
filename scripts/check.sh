#!/usr/bin/env bash
# make check: formatting (clang-format, kernel style) and static analysis
# (cppcheck) over the tree. Formatting differences are listed, not fixed:
# run `clang-format -i FILE` on the ones you touched.
set -u
cd "$(dirname "$0")/.."
# Without its tools every file would look unformatted: install them.
scripts/deps.sh check || exit 1
rc=0
files=$(git ls-files '*.c' '*.h')

echo "== clang-format"
bad=0
for f in $files; do
	if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
		echo "  needs formatting: $f"
		bad=$((bad + 1))
	fi
done
[ $bad -eq 0 ] && echo "  all files formatted" || rc=1

echo "== cppcheck"
# BPF programs are left to clang -Werror and the verifier: their BTF map
# macros are not C that cppcheck can follow.
if ! git ls-files 'user/*.c' 'tests/*.c' | grep -v '\.bpf\.c$' |
	xargs cppcheck --quiet --error-exitcode=1 --inline-suppr \
		--enable=warning,portability --std=c11 \
		-D__x86_64__ -Iinclude -Iuser/lib \
		--include=scripts/cppcheck.h \
		--suppress=missingIncludeSystem 2>&1; then
	rc=1
else
	echo "  no findings"
fi
exit $rc
