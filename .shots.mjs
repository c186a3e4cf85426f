import { chromium } from 'playwright-core';
import { pathToFileURL } from 'node:url';
const [file, prefix, n = '8'] = process.argv.slice(2);
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const p = await b.newPage({ viewport: { width: 1200, height: 1300 } });
await p.goto(pathToFileURL(file).href);
const H = await p.evaluate('document.body.scrollHeight');
for (let i = 0; i * 1300 < H && i < +n; i++) {
  await p.evaluate(`window.scrollTo(0, ${i * 1300})`);
  await p.screenshot({ path: `/tmp/shots/${prefix}-${i}.png` });
}
console.log(H);
await b.close();
