// A small tus 1.0 server that offers the checksum extension (sha256), for exhibit's tests of
// Upload-Checksum: @tus/server does not offer it. Storage is like @tus/file-store: a data file
// <id> and <id>.json with the metadata. HTTPS with a required client certificate, 127.0.0.1.
//
//   node tus-checksum-server.mjs --port N --dir DIR --cert C --key K --ca CA [--corrupt-patch N]
//                                [--no-checksum] [--max-body BYTES] [--reset-body-over BYTES]
//                                [--unavailable-patch N] [--endless-answer headers|body]
//                                [--garbage-refusal] [--receipts MODE] [--min-chunk BYTES]
//
// --corrupt-patch N flips a byte of the N-th PATCH body (1-based) as if damaged in transit,
// so the client must see 460 and send the chunk again. --unavailable-patch N reads the N-th
// PATCH body and answers 503 without storing it, as a server briefly overloaded or
// restarting behind its proxy does. --endless-answer answers OPTIONS with header lines, or a
// body, that never end (a hostile or broken server), until the client hangs up.
// --garbage-refusal answers every PATCH 403 with bytes that are not UTF-8 and terminal
// escapes in a header and in the body. --no-checksum does not offer the
// checksum extension (a plain tus server that logs every PATCH). --max-body answers 413 to a
// PATCH or POST whose body is larger, without reading it, as a proxy with a body size limit
// does. --reset-body-over breaks the connection instead, without answering, on such a request
// whose body is larger, as some proxies and firewalls do. Prints "listening <port>" when ready
// and one line per PATCH: "patch <id> offset=<o> length=<n> checksum=<ok|mismatch|absent>",
// "refused <id> length=<n>" for a body over --max-body, "reset <id> length=<n>", or
// "unavailable <id> length=<n>".
//
// --receipts offers receipts by hash as exhibit-dfu-server does (dfu/: "Exhibit-Receipt:
// exhibit-dfu-receipt/1" on OPTIONS, GET <upload>/receipt), of the data file as stored, with
// MODE: honest; pending-twice (202 to an upload's first two asks); lie-once (the first receipt the
// server gives names a hash of other bytes); garbage (200 with bytes that are not a receipt);
// unknown-format (OPTIONS names another receipt format, which a kiosk must not read). Each ask
// prints "receipt <id> <answer>". --min-chunk announces Exhibit-Min-Chunk-Size and answers 400
// to a PATCH body under it that does not end the upload.
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';

const opts = {
  port: 0, corrupt: 0, unavailable: 0, checksum: true, maxBody: Infinity, resetBody: Infinity,
  endless: null, garbage: false, receipts: null, minChunk: 0,
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const v = argv[i + 1];
  switch (argv[i]) {
    case '--port': opts.port = Number(v); i++; break;
    case '--dir': opts.dir = v; i++; break;
    case '--cert': opts.cert = v; i++; break;
    case '--key': opts.key = v; i++; break;
    case '--ca': opts.ca = v; i++; break;
    case '--corrupt-patch': opts.corrupt = Number(v); i++; break;
    case '--unavailable-patch': opts.unavailable = Number(v); i++; break;
    case '--endless-answer': opts.endless = v; i++; break;
    case '--garbage-refusal': opts.garbage = true; break;
    case '--receipts': opts.receipts = v; i++; break;
    case '--min-chunk': opts.minChunk = Number(v); i++; break;
    case '--no-checksum': opts.checksum = false; break;
    case '--max-body': opts.maxBody = Number(v); i++; break;
    case '--reset-body-over': opts.resetBody = Number(v); i++; break;
    default: console.error(`unknown argument ${argv[i]}`); process.exit(2);
  }
}
fs.mkdirSync(opts.dir, { recursive: true });
const MAX_CHUNK = 64 * 1024 * 1024;
let patches = 0;
const receiptAsks = new Map();  // upload id -> receipts asked for
let lied = false;

const infoPath = (id) => path.join(opts.dir, `${id}.json`);
const dataPath = (id) => path.join(opts.dir, id);
function load(id) {
  if (!/^[0-9a-f]{32}$/.test(id) || !fs.existsSync(infoPath(id))) return null;
  const info = JSON.parse(fs.readFileSync(infoPath(id), 'utf8'));
  info.offset = fs.statSync(dataPath(id)).size;
  return info;
}
function send(res, status, headers = {}, body = '') {
  res.writeHead(status, { 'Tus-Resumable': '1.0.0', ...headers });
  res.end(body);
}
function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const parts = [];
    let size = 0;
    req.on('data', (d) => {
      size += d.length;
      if (size > limit) { reject(new Error('too large')); req.destroy(); return; }
      parts.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}
function checksumOf(req, body) {
  const header = req.headers['upload-checksum'];
  if (!header) return 'absent';
  const [algo, b64] = header.split(' ');
  if (algo !== 'sha256') return 'unsupported';
  const digest = crypto.createHash('sha256').update(body).digest('base64');
  return digest === b64 ? 'ok' : 'mismatch';
}
function append(id, info, req, res, body, status, extra = {}) {
  const check = checksumOf(req, body);
  console.log(`patch ${id} offset=${info.offset} length=${body.length} checksum=${check}`);
  if (check === 'unsupported') return send(res, 400, {}, 'unsupported checksum algorithm');
  if (check === 'mismatch') return send(res, 460, {}, 'checksum mismatch');
  if (info.offset + body.length > info.size) return send(res, 413, {}, 'past Upload-Length');
  fs.appendFileSync(dataPath(id), body);
  send(res, status, { 'Upload-Offset': String(info.offset + body.length), ...extra });
}

// Writes `head`, then `filler` until the client hangs up, minding back-pressure.
function endless(socket, head, filler) {
  const more = () => { while (!socket.destroyed && socket.write(filler)); };
  socket.on('drain', more);
  socket.on('error', () => {});
  socket.write(head);
  more();
}

function receipt(id, res) {
  const info = load(id);
  if (!info) { console.log(`receipt ${id} unknown`); return send(res, 404, {}, '{"state":"unknown"}'); }
  const asks = (receiptAsks.get(id) ?? 0) + 1;
  receiptAsks.set(id, asks);
  if (info.offset !== info.size || (opts.receipts === 'pending-twice' && asks <= 2)) {
    console.log(`receipt ${id} pending`);
    return send(res, 202, { 'Content-Type': 'application/json' },
      JSON.stringify({ state: 'pending', reason: `${info.offset} of ${info.size} bytes are stored` }));
  }
  if (opts.receipts === 'garbage') {
    console.log(`receipt ${id} garbage`);
    return send(res, 200, {}, 'not a receipt \x1b[31m');
  }
  const data = fs.readFileSync(dataPath(id));
  let sha256 = crypto.createHash('sha256').update(data).digest('hex');
  if (opts.receipts === 'lie-once' && !lied) {
    lied = true;
    sha256 = crypto.createHash('sha256').update('other bytes').digest('hex');
    console.log(`receipt ${id} lie`);
  } else {
    console.log(`receipt ${id} honest`);
  }
  send(res, 200, { 'Content-Type': 'application/json' }, JSON.stringify({
    format: 'exhibit-dfu-receipt/1', upload_id: id, bucket: 'test', key: id, size: data.length,
    length: info.size, sha256, declared_sha256: null, verdict: 'not-declared',
    verified_at: new Date().toISOString(), assembled_by: 'upload', verified_by: 'test server',
  }));
}

async function handle(req, res) {
  if (req.method !== 'OPTIONS' && req.headers['tus-resumable'] !== '1.0.0')
    return send(res, 412, { 'Tus-Version': '1.0.0' });
  const url = new URL(req.url, 'https://127.0.0.1');
  const r = url.pathname.match(/^\/files\/([0-9a-f]{32})\/receipt$/);
  if (r && req.method === 'GET' && opts.receipts) return receipt(r[1], res);
  const m = url.pathname.match(/^\/files\/?([0-9a-f]*)$/);
  if (!m) return send(res, 404);
  const id = m[1];
  if (req.method === 'OPTIONS' && opts.endless) {
    console.log(`endless ${opts.endless}`);
    return opts.endless === 'headers'
      ? endless(req.socket, 'HTTP/1.1 204 No Content\r\nTus-Resumable: 1.0.0\r\n',
        `X-Filler: ${'h'.repeat(1000)}\r\n`)
      : endless(req.socket, 'HTTP/1.1 200 OK\r\nTus-Resumable: 1.0.0\r\n\r\n', 'b'.repeat(65536));
  }
  if (req.method === 'OPTIONS') {
    const extra = {};
    if (opts.receipts)
      extra['Exhibit-Receipt'] = opts.receipts === 'unknown-format' ? 'exhibit-dfu-receipt/9' : 'exhibit-dfu-receipt/1';
    if (opts.minChunk) extra['Exhibit-Min-Chunk-Size'] = String(opts.minChunk);
    return send(res, 204, opts.checksum ? {
      'Tus-Version': '1.0.0',
      'Tus-Extension': 'creation,creation-with-upload,termination,checksum',
      'Tus-Checksum-Algorithm': 'sha256', ...extra,
    } : { 'Tus-Version': '1.0.0', 'Tus-Extension': 'creation,creation-with-upload,termination', ...extra });
  }
  const declared = Number(req.headers['content-length'] || 0);
  if ((req.method === 'PATCH' || req.method === 'POST') && declared > opts.resetBody) {
    console.log(`reset ${id || 'new'} length=${declared}`);
    // Closed with the body unread: the kernel answers the client's bytes with a reset.
    req.socket.destroy();
    return;
  }
  if ((req.method === 'PATCH' || req.method === 'POST') && declared > opts.maxBody) {
    console.log(`refused ${id || 'new'} length=${declared}`);
    // Answer at once but read and drop the body, as a proxy's lingering close does: closing
    // with unread bytes would reset the connection before the client reads the answer.
    req.resume();
    return send(res, 413, {}, 'request body too large');
  }
  if (req.method === 'POST' && !id) {
    const size = Number(req.headers['upload-length']);
    if (!Number.isSafeInteger(size) || size < 0) return send(res, 400, {}, 'bad Upload-Length');
    const newId = crypto.randomBytes(16).toString('hex');
    const info = { id: newId, size, offset: 0, metadata: req.headers['upload-metadata'] || '' };
    fs.writeFileSync(infoPath(newId), JSON.stringify(info));
    fs.writeFileSync(dataPath(newId), '');
    const location = { Location: `https://127.0.0.1:${server.address().port}/files/${newId}` };
    if (req.headers['content-type'] === 'application/offset+octet-stream') {
      const body = await readBody(req, MAX_CHUNK);
      return append(newId, info, req, res, body, 201, location);
    }
    return send(res, 201, location);
  }
  const info = id ? load(id) : null;
  if (!info) return send(res, 404);
  if (req.method === 'HEAD')
    return send(res, 200, {
      'Upload-Offset': String(info.offset), 'Upload-Length': String(info.size),
      'Cache-Control': 'no-store',
    });
  if (req.method === 'DELETE') {
    fs.rmSync(dataPath(id)); fs.rmSync(infoPath(id));
    return send(res, 204);
  }
  if (req.method === 'PATCH') {
    if (req.headers['content-type'] !== 'application/offset+octet-stream') return send(res, 415);
    if (Number(req.headers['upload-offset']) !== info.offset)
      return send(res, 409, { Connection: 'close' }, 'offset mismatch');
    const body = await readBody(req, MAX_CHUNK);
    if (opts.minChunk && body.length < opts.minChunk && info.offset + body.length < info.size) {
      console.log(`small ${id} length=${body.length}`);
      return send(res, 400, {}, 'chunk below the store\'s minimum');
    }
    if (opts.garbage) {
      console.log(`garbage ${id}`);
      const text = Buffer.from('denied \xff\xfe\x1b[31m red \xc3(', 'latin1');
      req.socket.end(Buffer.concat([
        Buffer.from('HTTP/1.1 403 Forbidden\r\nTus-Resumable: 1.0.0\r\nConnection: close\r\n' +
          `Content-Length: ${text.length}\r\nX-Junk: \xff\xfe\x1b]0;title\x07\r\n\r\n`, 'latin1'),
        text,
      ]));
      return;
    }
    if (++patches === opts.unavailable) {
      console.log(`unavailable ${id} length=${body.length}`);
      return send(res, 503, {}, 'service unavailable');
    }
    if (patches === opts.corrupt && body.length > 0) body[body.length >> 1] ^= 0xff;
    return append(id, info, req, res, body, 204);
  }
  send(res, 405);
}

const server = https.createServer(
  {
    cert: fs.readFileSync(opts.cert), key: fs.readFileSync(opts.key), ca: fs.readFileSync(opts.ca),
    requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2',
  },
  (req, res) => handle(req, res).catch((e) => { if (!res.headersSent) send(res, 500, {}, e.message); }),
);
server.keepAliveTimeout = 60_000;
server.listen(opts.port, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
