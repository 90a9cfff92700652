// Writes live-avatar.js: the SignalR browser client (from npm) and the <live-avatar> element, as one
// classic script. Both run inside one function, so the page's own globals (a signalR of its own,
// module, define) are neither used nor overwritten. Usage: node build.mjs <output file>
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const output = process.argv[2] ?? join(here, 'dist', 'live-avatar.js');
const signalrPath = join(here, 'node_modules', '@microsoft', 'signalr', 'dist', 'browser', 'signalr.min.js');
const { version } = JSON.parse(readFileSync(join(here, 'node_modules', '@microsoft', 'signalr', 'package.json'), 'utf8'));
const signalr = readFileSync(signalrPath, 'utf8').replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n');
const element = readFileSync(join(here, 'live-avatar.element.js'), 'utf8');

const script = `/*! ImagePictures <live-avatar>. Contains @microsoft/signalr ${version} (MIT, (c) .NET Foundation). */
(function () {
var scriptUrl = document.currentScript ? document.currentScript.src : '';
var signalR = (function () {
var module = { exports: {} }, exports = module.exports, define;
${signalr}
return module.exports;
})();
(function (signalR, scriptUrl) {
${element}
})(signalR, scriptUrl);
})();
`;
mkdirSync(dirname(output), { recursive: true });
writeFileSync(output, script);
