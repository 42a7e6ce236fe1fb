import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** The anchor GitHub gives a heading: lower case, punctuation dropped, each space a hyphen. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The page's text outside code blocks, where a link is a link. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```$/gm, '');
}

function anchorsOf(path: string): Set<string> {
  const headings = [...prose(readFileSync(path, 'utf8')).matchAll(/^#{1,6} (.+)$/gm)];
  return new Set(headings.map((m) => headingAnchor(m[1] ?? '')));
}

test('headingAnchor slugs headings as GitHub does', () => {
  assert.equal(headingAnchor('4. The load balancer'), '4-the-load-balancer');
  assert.equal(headingAnchor('steadfast restart --rolling'), 'steadfast-restart---rolling');
  assert.equal(headingAnchor('7. Before a deploy: `steadfast doctor`'), '7-before-a-deploy-steadfast-doctor');
  assert.equal(headingAnchor("HAProxy's log"), 'haproxys-log');
});

// The reference is split over several pages that link into each other by section: a renamed heading or
// a moved file must fail here, not leave a reader at the top of the wrong page.
test('every relative link of the README and docs/ reaches a file, and its section when it names one', () => {
  const broken: string[] = [];
  let checked = 0;
  for (const page of PAGES) {
    const text = prose(readFileSync(join(ROOT, page), 'utf8'));
    for (const [, target = ''] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target)) continue;
      checked++;
      const [file = '', anchor] = target.split('#');
      const path = file === '' ? join(ROOT, page) : join(ROOT, dirname(page), file);
      if (!existsSync(path)) broken.push(`${page}: ${target} (no file ${relative(ROOT, path)})`);
      else if (anchor !== undefined && path.endsWith('.md') && !anchorsOf(path).has(anchor))
        broken.push(`${page}: ${target} (no section #${anchor})`);
    }
  }
  assert.ok(checked >= 30, `links checked: ${checked}`);
  assert.deepEqual(broken, []);
});

test('the code and ops/ point at no README section: the reference lives in docs/', () => {
  const pointers: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|ya?ml|cfg)$/.test(entry.name) && !entry.name.endsWith('docsLinks.test.ts')) {
        const text = readFileSync(join(ROOT, path), 'utf8');
        for (const m of text.matchAll(/README[^\n]{0,40}(table|section|Configuration|says|lists)/g))
          pointers.push(`${path}: ${m[0]}`);
      }
    }
  };
  for (const dir of ['src', 'ops', 'test', 'bench']) walk(dir);
  assert.deepEqual(pointers, []);
});
