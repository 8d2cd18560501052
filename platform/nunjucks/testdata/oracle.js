// Renders every case in cases.json with Nunjucks itself, configured as
// Backstage's scaffolder configures it, and writes expected.json for
// nunjucks_test.go. Regenerate after changing cases.json:
//
//   npm install --prefix /tmp/nunjucks-oracle nunjucks@3.2.4
//   NODE_PATH=/tmp/nunjucks-oracle/node_modules node oracle.js
const fs = require('fs');
const path = require('path');
const nunjucks = require('nunjucks');

const cases = JSON.parse(fs.readFileSync(path.join(__dirname, 'cases.json'), 'utf8'));
const out = {};
for (const c of cases) {
  if (c.differs) continue;
  const o = c.options || {};
  const env = new nunjucks.Environment(null, {
    autoescape: false,
    trimBlocks: !!o.trimBlocks,
    lstripBlocks: !!o.lstripBlocks,
    tags: { variableStart: '${{', variableEnd: '}}' },
  });
  try {
    out[c.name] = { output: env.renderString(c.template, c.data || {}) };
  } catch (e) {
    out[c.name] = { error: String(e.message).split('\n')[0] };
  }
}
fs.writeFileSync(path.join(__dirname, 'expected.json'),
  JSON.stringify({ generator: 'nunjucks@' + require('nunjucks/package.json').version, cases: out }, null, 1) + '\n');
