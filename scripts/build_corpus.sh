#!/usr/bin/env bash
# Assembles shoggoth's built-in English corpus into data/corpus/ from Debian
# packages that scripts/setup.sh installs; nothing is downloaded.
#
#   scripts/build_corpus.sh [OUT_DIR]      (default: data/corpus)
#
# Writes one UTF-8 .txt file per source, with documents separated by blank
# lines (the paragraph convention of `shoggoth data prepare`), and
# MANIFEST.json / MANIFEST.md naming each source's package, version, licence,
# size and SHA-256. Deterministic: the same package versions give
# byte-identical files (fixed file lists, sorted, C locale, no timestamps).
# The directory is built next to OUT_DIR and renamed into place, so a failed
# run leaves no half-built corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

OUT=${1:-data/corpus}
TMP="$OUT.tmp.$$"
trap 'rm -rf "$TMP"' EXIT

need=(bible-kjv bible-kjv-text fortunes fortunes-min jargon-text debian-reference-en coreutils grep sed diffutils findutils gzip base-files)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "build_corpus: missing packages: ${missing[*]} (run scripts/setup.sh)" >&2
  exit 1
fi

rm -rf "$TMP"
mkdir -p "$TMP"

# The King James Bible through the bible program: one unwrapped line per
# verse. Verse numbers are dropped and each chapter's heading is joined to its
# verses, so a chapter is one document.
bible -l100000 gen1:1-rev22:21 > "$TMP/kjv.raw"

python3 - "$TMP" <<'PY'
import glob, gzip, os, re, sys

out = sys.argv[1]

def clean(text):
    # Overstrike (x BACKSPACE x, _ BACKSPACE x) is how old fortunes mark bold
    # and underline; keep the letter. Other control characters, except tab
    # and newline, are not text.
    text = re.sub(r'.\x08', '', text)
    text = re.sub(r'[\x00-\x08\x0b-\x1f\x7f]', '', text)
    text = '\n'.join(line.rstrip() for line in text.split('\n'))
    return re.sub(r'\n{3,}', '\n\n', text).strip('\n') + '\n'

def read(path):
    data = open(path, 'rb').read()
    if path.endswith('.gz'):
        data = gzip.decompress(data)
    return data.decode('utf-8')  # strict: a non-UTF-8 source must fail loudly

def write(name, text):
    with open(os.path.join(out, name), 'w', encoding='utf-8', newline='\n') as f:
        f.write(clean(text))

# kjv.txt
raw = read(os.path.join(out, 'kjv.raw'))
os.remove(os.path.join(out, 'kjv.raw'))
chapters = []
for block in re.split(r'\n\s*\n', raw.strip('\n')):
    lines = [l for l in block.split('\n') if l.strip()]
    if not lines:
        continue
    if re.match(r'^\s+\d+ ', lines[0]):           # verses of the current chapter
        chapters[-1].extend(re.sub(r'^\s+\d+ ', '', l) for l in lines)
    else:                                         # a "Book N" heading
        chapters.append([l.strip() for l in lines])
write('kjv.txt', '\n\n'.join('\n'.join(c) for c in chapters))

# fortunes.txt: every fortune is one document. ascii-art is pictures, not text.
docs = []
base = '/usr/share/games/fortunes'
for path in sorted(glob.glob(base + '/*')):
    name = os.path.basename(path)
    if os.path.islink(path) or not os.path.isfile(path) or '.' in name or name == 'ascii-art':
        continue
    for f in re.split(r'^%$', read(path), flags=re.M):
        f = re.sub(r'\n\s*\n', '\n', f.strip('\n'))  # keep a fortune in one paragraph
        if f.strip():
            docs.append(f)
write('fortunes.txt', '\n\n'.join(docs))

# jargon.txt: the Jargon File, as shipped (entries are already paragraphs).
write('jargon.txt', read('/usr/share/doc/jargon-text/jargon.txt.gz'))

# debian-reference.txt: the Debian Reference, plain-text edition.
write('debian-reference.txt', read('/usr/share/debian-reference/debian-reference.en.txt.gz'))

# gnu-manuals.txt: the Info manuals of essential GNU packages (present on every
# Debian system), without Info's node headers and tag tables.
parts = []
for stem in ['coreutils', 'diffutils', 'find', 'grep', 'gzip', 'sed']:
    for path in sorted(glob.glob('/usr/share/info/%s.info*.gz' % stem),
                       key=lambda p: (len(p), p)):  # find.info.gz, find.info-1.gz, find.info-2.gz
        text = read(path)
        text = re.split(r'\x1f\nTag Table:', text)[0]
        text = re.sub(r'\x1f\nIndirect:\n.*?\x1f', '\x1f', text, flags=re.S)
        text = re.sub(r'^File: [^\n]*Node: [^\n]*\n', '', text, flags=re.M)
        parts.append(text)
write('gnu-manuals.txt', '\n\n'.join(parts))

# licenses.txt: the common free-software licences shipped by base-files.
names = ['Apache-2.0', 'Artistic', 'BSD', 'CC0-1.0', 'GFDL-1.3', 'GPL-2', 'GPL-3', 'LGPL-2.1', 'LGPL-3', 'MPL-2.0']
write('licenses.txt', '\n\n'.join(read('/usr/share/common-licenses/' + n) for n in names))
PY

# Manifest: source, packages (with versions), licence, size, checksum.
ver() { dpkg-query -W -f='${Version}' "$1"; }
python3 - "$TMP" \
  "kjv.txt|bible-kjv $(ver bible-kjv), bible-kjv-text $(ver bible-kjv-text)|King James Version of the Bible (1611), via the bible program|Public domain (text); the bible program is GPL-2+" \
  "fortunes.txt|fortunes $(ver fortunes), fortunes-min $(ver fortunes-min)|fortune cookie files in /usr/share/games/fortunes, except ascii-art|BSD-style and public domain; see /usr/share/doc/fortunes/copyright" \
  "jargon.txt|jargon-text $(ver jargon-text)|The Jargon File 4.4.7 (jargon.txt)|Public domain" \
  "debian-reference.txt|debian-reference-en $(ver debian-reference-en)|Debian Reference, plain-text edition|GPL-2+" \
  "gnu-manuals.txt|coreutils $(ver coreutils), diffutils $(ver diffutils), findutils $(ver findutils), grep $(ver grep), gzip $(ver gzip), sed $(ver sed)|GNU Info manuals of coreutils, diffutils, findutils, grep, gzip, sed|GFDL-1.3+" \
  "licenses.txt|base-files $(ver base-files)|Common licence texts from /usr/share/common-licenses|Verbatim copying of each licence text is permitted" <<'PY'
import hashlib, json, os, sys
out = sys.argv[1]
entries = []
for arg in sys.argv[2:]:
    name, pkgs, source, licence = arg.split('|')
    data = open(os.path.join(out, name), 'rb').read()
    entries.append({'file': name, 'source': source, 'packages': pkgs, 'licence': licence,
                    'bytes': len(data), 'paragraphs': data.count(b'\n\n') + 1,
                    'sha256': hashlib.sha256(data).hexdigest()})
total = sum(e['bytes'] for e in entries)
with open(os.path.join(out, 'MANIFEST.json'), 'w') as f:
    json.dump({'corpus': 'shoggoth built-in English corpus', 'built_by': 'scripts/build_corpus.sh',
               'total_bytes': total, 'files': entries}, f, indent=2)
    f.write('\n')
with open(os.path.join(out, 'MANIFEST.md'), 'w') as f:
    f.write('# Built-in corpus\n\nAssembled by `scripts/build_corpus.sh` from installed Debian packages; '
            'documents are blank-line-separated paragraphs.\n\n')
    f.write('| File | Source | Packages | Licence | Bytes | SHA-256 |\n|---|---|---|---|---:|---|\n')
    for e in entries:
        f.write('| {file} | {source} | {packages} | {licence} | {bytes} | `{sha}` |\n'.format(sha=e['sha256'][:16], **e))
    f.write('| **total** | | | | {} | |\n'.format(total))
PY

rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
mv "$TMP" "$OUT"
trap - EXIT
echo "build_corpus: $(du -sh "$OUT" | cut -f1) in $OUT ($(ls "$OUT"/*.txt | wc -l) files)"
