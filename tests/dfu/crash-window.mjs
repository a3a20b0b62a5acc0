// Leaves an upload in the DFU store exactly as an exhibit-dfu-server worker killed in the crash
// window leaves it: @tus/s3-store's record (<id>.info, the Upload as JSON with the multipart
// upload's id in its metadata) and a multipart upload holding every byte in parts, never
// completed, so no object <id>. A HEAD then reports offset = length.
//
//   node crash-window.mjs S3_ENV_FILE SIZE SEED
//
// The bytes are SIZE bytes of a pattern from SEED; prints "<id> <sha256>".
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const deps = process.env.EXHIBIT_DFU_NODE_DEPS ?? path.join(here, '..', '..', '.node-deps', 'dfu');
const require = createRequire(path.join(deps, 'package.json'));
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const s3 = await import(require.resolve('@aws-sdk/client-s3'));

const [envFile, sizeText, seed] = process.argv.slice(2);
const env = Object.fromEntries(fs.readFileSync(envFile, 'utf8').split('\n')
  .map((l) => /^([A-Z0-9_]+)=(.*)$/.exec(l)).filter(Boolean).map((m) => [m[1], m[2]]));
const client = new s3.S3Client({
  endpoint: env.S3_ENDPOINT, region: env.S3_REGION, forcePathStyle: true,
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
});
const Bucket = env.S3_BUCKET;
const size = Number(sizeText);
const bytes = Buffer.alloc(size);
for (let i = 0; i < size; i += 32) {
  crypto.createHash('sha256').update(`${seed}:${i}`).digest().copy(bytes, i);
}
const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
const id = crypto.randomBytes(16).toString('hex');

const { UploadId } = await client.send(new s3.CreateMultipartUploadCommand({ Bucket, Key: id }));
const upload = {
  id, size, offset: 0, metadata: { filename: 'crash-window.bin', sha256 },
  creation_date: new Date().toISOString(), storage: { type: 's3', path: id, bucket: Bucket },
};
await client.send(new s3.PutObjectCommand({
  Bucket, Key: `${id}.info`, Body: JSON.stringify(upload),
  Metadata: { 'upload-id': UploadId, 'tus-version': '1.0.0' },
}));
const part = 5 * 1024 * 1024;
for (let n = 1, at = 0; at < size; n++, at += part) {
  await client.send(new s3.UploadPartCommand({
    Bucket, Key: id, UploadId, PartNumber: n, Body: bytes.subarray(at, Math.min(size, at + part)),
  }));
}
process.stdout.write(`${id} ${sha256}\n`);
