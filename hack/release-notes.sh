#!/usr/bin/env bash
# Prints the release notes of VERSION: the body of its section
# "## [VERSION] - YYYY-MM-DD" in the changelog, without the heading. Fails
# when there is no such section, when it is dated "unreleased" or has no
# date, or when it is empty: a release is cut only once its entries are
# moved there from "Unreleased" (docs/development.md, "Releasing").
#
# Usage: hack/release-notes.sh X.Y.Z CHANGELOG.md
set -euo pipefail

version=${1:?usage: hack/release-notes.sh X.Y.Z CHANGELOG.md}
changelog=${2:?usage: hack/release-notes.sh X.Y.Z CHANGELOG.md}

heading=$(grep -E "^## \[${version//./\\.}\]" "${changelog}" || true)
if [[ -z ${heading} ]]; then
  echo "${changelog} has no section \"## [${version}] - YYYY-MM-DD\": move the Unreleased entries under it first" >&2
  exit 1
fi
if [[ $(wc -l <<<"${heading}") -ne 1 ]]; then
  echo "${changelog} has more than one section for ${version}" >&2
  exit 1
fi
if ! [[ ${heading} =~ ^##\ \[[^]]+\]\ -\ [0-9]{4}-[0-9]{2}-[0-9]{2}$ ]]; then
  echo "${changelog}: \"${heading}\" is not dated \"- YYYY-MM-DD\"" >&2
  exit 1
fi

# The lines after the heading up to the next version's heading (or the
# link references at the end), without leading and trailing blank lines.
notes=$(awk -v h="${heading}" '
  $0 == h { inside = 1; next }
  inside && (/^## \[/ || /^\[[^]]+\]: /) { exit }
  inside { print }
' "${changelog}" | sed -e '/./,$!d' | tac | sed -e '/./,$!d' | tac)
if [[ -z ${notes} ]]; then
  echo "${changelog}: the section of ${version} is empty" >&2
  exit 1
fi
printf '%s\n' "${notes}"
