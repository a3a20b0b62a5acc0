// The real tus peer for exhibit's upload tests, demo and benchmark: @tus/server with
// @tus/file-store on 127.0.0.1, HTTPS with a required client certificate.
//
//   node server.mjs --port N --dir STORAGE --cert server.pem --key server.key --ca client-ca.pem
//                   [--http] [--max-size BYTES] [--log-requests]
//
// --port 0 picks a free port. When ready it prints one line "listening <port>" on stdout.
// --log-requests then prints one line per request as it arrives: "<METHOD> <upload id or ->
// upload-length=<v> upload-defer-length=<v> upload-offset=<v>" (- for a header not sent).
// --http serves plain HTTP (benchmark baseline and loopback demos only).
// Resolve the packages from the git-ignored install made by scripts/install-node-deps.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const deps = process.env.EXHIBIT_NODE_DEPS || path.join(here, '..', '..', '..', '.node-deps');
const require = createRequire(path.join(deps, 'package.json'));
const { Server } = await import(require.resolve('@tus/server'));
const { FileStore } = await import(require.resolve('@tus/file-store'));

function parse(argv) {
  const opts = { port: 0, http: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port') opts.port = Number(next());
    else if (a === '--dir') opts.dir = next();
    else if (a === '--cert') opts.cert = next();
    else if (a === '--key') opts.key = next();
    else if (a === '--ca') opts.ca = next();
    else if (a === '--max-size') opts.maxSize = Number(next());
    else if (a === '--http') opts.http = true;
    else if (a === '--log-requests') opts.logRequests = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!opts.dir) throw new Error('--dir is required');
  if (!opts.http && !(opts.cert && opts.key && opts.ca))
    throw new Error('--cert, --key and --ca are required (or --http)');
  return opts;
}

let opts;
try {
  opts = parse(process.argv.slice(2));
} catch (e) {
  console.error(`tus-server: ${e.message}`);
  process.exit(2);
}

fs.mkdirSync(opts.dir, { recursive: true });
const tus = new Server({
  path: '/files',
  datastore: new FileStore({ directory: opts.dir }),
  // The server cannot tell it is behind TLS (it would name uploads "http://"); say it.
  generateUrl: (req, { host, path: base, id }) =>
    `${opts.http ? 'http' : 'https'}://${host}${base}/${id}`,
  ...(opts.maxSize ? { maxSize: opts.maxSize } : {}),
});

const logRequest = (req) => {
  const id = req.url.startsWith('/files/') ? req.url.slice('/files/'.length) || '-' : '-';
  const h = (name) => req.headers[name] ?? '-';
  process.stdout.write(`${req.method} ${id} upload-length=${h('upload-length')} ` +
    `upload-defer-length=${h('upload-defer-length')} upload-offset=${h('upload-offset')}\n`);
};
const handler = (req, res) => {
  if (opts.logRequests) logRequest(req);
  return tus.handle(req, res);
};
const server = opts.http
  ? http.createServer(handler)
  : https.createServer(
      {
        cert: fs.readFileSync(opts.cert),
        key: fs.readFileSync(opts.key),
        ca: fs.readFileSync(opts.ca),
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
      },
      handler,
    );
server.keepAliveTimeout = 60_000;
server.listen(opts.port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
