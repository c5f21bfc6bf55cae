// End-to-end test of Sinergi Web in a real headless browser (Debian's Chromium through
// playwright-core): log in with the keyboard, upload the demo PKH list, wait for the job,
// filter to TINJAU, open a row, record a case outcome, download the XLSX results (checking
// the outcome is in them) and the cases; axe-core on every main page (0 serious or critical violations); screenshots of the
// main pages at 1366x768 and 390x844.
//
// Run by run.sh, which starts a node and sets SINERGI_URL, SINERGI_LIST, SINERGI_USER,
// SINERGI_PASSWORD and SINERGI_SHOTS.

import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const base = process.env.SINERGI_URL;
const list = process.env.SINERGI_LIST;
const user = process.env.SINERGI_USER;
const password = process.env.SINERGI_PASSWORD;
const shots = process.env.SINERGI_SHOTS;
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
// bypassCSP: the node's CSP forbids every script, axe-core's included.
const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, acceptDownloads: true, bypassCSP: true });
const page = await context.newPage();
const problems = [];

// The parts of a zip file (an XLSX) by name, read through its central directory.
function unzip(buf) {
  let end = buf.length - 22;
  while (end >= 0 && buf.readUInt32LE(end) !== 0x06054b50) end--;
  assert.ok(end >= 0, 'a zip file');
  const count = buf.readUInt16LE(end + 10);
  let at = buf.readUInt32LE(end + 16);
  const parts = {};
  for (let i = 0; i < count; i++) {
    const method = buf.readUInt16LE(at + 10);
    const size = buf.readUInt32LE(at + 20);
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.subarray(at + 46, at + 46 + nameLen).toString();
    const data = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(data, data + size);
    parts[name] = (method === 8 ? inflateRawSync(raw) : raw).toString('utf8');
    at += 46 + nameLen + extraLen + commentLen;
  }
  return parts;
}

async function axe(name) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => await window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  const bad = result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical');
  for (const v of bad) {
    problems.push(`${name}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.map(n => n.target.join(' ')).slice(0, 3).join('; ')}`);
  }
  console.log(`axe ${name}: ${result.violations.length} violations, ${bad.length} serious/critical`);
}

async function shoot(name) {
  if (!shots) return;
  await page.screenshot({ path: `${shots}/web-${name}-1366.png`, fullPage: false });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${shots}/web-${name}-390.png`, fullPage: false });
  await page.setViewportSize({ width: 1366, height: 768 });
}

// 1. Log in with the keyboard only.
await page.goto(`${base}/`);
assert.match(page.url(), /\/masuk/);
await axe('masuk');
await shoot('masuk');
await page.keyboard.press('Tab'); // skip link
await page.focus('#username');
await page.keyboard.type(user);
await page.keyboard.press('Tab');
await page.keyboard.type(password);
await page.keyboard.press('Enter');
await page.waitForURL(`${base}/`);
assert.ok(await page.getByText('Beranda').first().isVisible());

// 2. Upload the demo PKH list.
await page.goto(`${base}/validasi`);
await page.selectOption('#program', 'PKH');
await page.setInputFiles('#berkas', list);
await axe('validasi');
await shoot('validasi');
await Promise.all([page.waitForURL(/\/validasi\/\d+$/), page.click('button.utama')]);
const jobUrl = page.url();

// 3. Wait for the job (the page refreshes itself; we reload too).
for (let i = 0; i < 300; i++) {
  const status = await page.textContent('#status');
  if (status.includes('Selesai')) break;
  assert.ok(!status.includes('Gagal'), `job failed: ${await page.textContent('main')}`);
  await page.waitForTimeout(1000);
  await page.goto(jobUrl);
}
assert.match(await page.textContent('#status'), /Selesai/);
await axe('job');
await shoot('job');

// 4. Filter to TINJAU.
await page.click('text=Lihat hasil');
await page.selectOption('#putusan', 'TINJAU');
await page.click('form.saring button');
await page.waitForURL(/putusan=TINJAU/);
const badges = await page.$$eval('td .lencana', els => els.map(e => e.textContent.trim()));
assert.ok(badges.length > 0, 'TINJAU rows for this operator');
assert.ok(badges.every(b => b === 'TINJAU'), `only TINJAU: ${badges}`);
await axe('hasil');
await shoot('hasil');

// 5. Open the first row and record a case outcome.
await page.click('table tbody tr:first-child td a');
await page.waitForURL(/\/baris\/\d+$/);
const rowUrl = page.url();
await axe('baris');
await shoot('baris');
await page.check('#hasil-dikeluarkan');
await page.fill('#catatan', 'Uji e2e: sudah pindah domisili');
await Promise.all([page.waitForURL(rowUrl), page.click('form[action^="/kasus/"] button.utama')]);
assert.ok((await page.textContent('.riwayat')).includes('Uji e2e: sudah pindah domisili'));

// 6. Download the XLSX results (the engine's file with the case's final status) and the cases.
await page.goto(jobUrl);
const [xlsx] = await Promise.all([page.waitForEvent('download'), page.click('text=Unduh XLSX')]);
const xlsxPath = await xlsx.path();
const xbytes = readFileSync(xlsxPath);
assert.equal(xbytes.subarray(0, 2).toString(), 'PK', 'an XLSX (zip) file');
// The case's final status is in it: a sheet "Kasus" with the outcome and the note.
const parts = unzip(xbytes);
assert.ok(/<sheet name="Kasus"/.test(parts['xl/workbook.xml']), 'a Kasus sheet');
const kasus = Object.entries(parts).find(([n, x]) => n.startsWith('xl/worksheets/') && x.includes('Hasil cek lapangan'));
assert.ok(kasus, 'the Kasus sheet has the case columns');
assert.ok(kasus[1].includes('>Dikeluarkan<') && kasus[1].includes('Uji e2e: sudah pindah domisili'), kasus[1]);
const [cases] = await Promise.all([page.waitForEvent('download'), page.click('text=Unduh kasus (CSV)')]);
const ctext = readFileSync(await cases.path(), 'utf8');
assert.ok(ctext.includes('dikeluarkan') && ctext.includes('Uji e2e: sudah pindah domisili'), ctext);

// 7. Beranda after the run.
await page.goto(`${base}/`);
await axe('beranda');
await shoot('beranda');

await browser.close();
if (problems.length) {
  console.error('axe-core serious/critical violations:\n' + problems.join('\n'));
  process.exit(1);
}
console.log('e2e: ok');
