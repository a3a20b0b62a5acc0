// Receipts: the DFU's word that an upload is stored whole, by hash. A receipt is the JSON object
// "<upload id>.receipt" beside the upload's object "<upload id>" and @tus/s3-store's
// "<upload id>.info" in the bucket. It is written only after the assembled object was read back
// from the store and hashed, so it says what the store holds, not what the tus server counted.
//
// settle(id) brings one upload as far as it can go: a receipt already there is returned; an
// object without one is hashed and gets one; an upload whose parts add up to its length but
// whose object was never assembled (its tus server died between the last part and
// CompleteMultipartUpload: the "crash window", in which a HEAD already reports offset = length)
// is assembled first. Anything else is still pending, with the reason.
import crypto from 'node:crypto';

export const RECEIPT_FORMAT = 'exhibit-dfu-receipt/1';
const SHA256_HEX = /^[0-9a-f]{64}$/;
// @tus/server names uploads with 32 hex digits; anything that could not be one is refused
// before it reaches the store.
export const UPLOAD_ID = /^[0-9A-Za-z_-]{1,128}$/;

export const infoKey = (id) => `${id}.info`;
export const receiptKey = (id) => `${id}.receipt`;
// While a process hashes an upload's object it keeps "<id>.hashing" ({"by", "at"}) fresh, so
// that the other processes (workers asked for the receipt, the sweeper) wait for it instead of
// reading the whole object again. A marker not renewed for HASH_LEASE_MS is from a process that
// died: the next one to settle the upload hashes it. It is not evidence, and is deleted when
// the receipt is written.
export const markerKey = (id) => `${id}.hashing`;
const HASH_LEASE_MS = 15_000;
const HASH_RENEW_MS = 5_000;

const status = (e) => e?.$metadata?.httpStatusCode;
const isNotFound = (e) => e?.name === 'NoSuchKey' || e?.name === 'NotFound' || status(e) === 404;
const isNoSuchUpload = (e) => e?.name === 'NoSuchUpload' || isNotFound(e);

export class Receipts {
  // s3: the @aws-sdk/client-s3 module (resolved by the caller from the pinned packages);
  // client: an S3Client of it; bucket: the tus store's bucket; who: names this process in the
  // receipts it writes ("worker 2", "sweeper").
  constructor({ s3, client, bucket, who }) {
    this.s3 = s3;
    this.client = client;
    this.bucket = bucket;
    this.who = who;
    this.inflight = new Map();
  }

  // The receipt of upload `id`, or null while there is none.
  async read(id) {
    try {
      const { Body } = await this.client.send(
        new this.s3.GetObjectCommand({ Bucket: this.bucket, Key: receiptKey(id) }),
      );
      return JSON.parse(await Body.transformToString());
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  // One settling per upload at a time in this process; callers in between share its result.
  // Resolves to {state: 'received', receipt} | {state: 'pending', reason, stored} |
  // {state: 'unknown'}; rejects on a store error.
  settle(id) {
    let running = this.inflight.get(id);
    if (!running) {
      running = this.#settle(id).finally(() => this.inflight.delete(id));
      this.inflight.set(id, running);
    }
    return running;
  }

  async #settle(id) {
    const existing = await this.read(id);
    if (existing) return { state: 'received', receipt: existing };
    const info = await this.#readInfo(id);
    if (!info) return { state: 'unknown' };
    let assembledBy = 'upload';
    if (!(await this.#exists(id))) {
      const pending = await this.#assemble(id, info);
      if (pending) return pending;
      assembledBy = this.who;
    }
    const marker = await this.#readMarker(id);
    if (marker && Date.now() - Date.parse(marker.at) < HASH_LEASE_MS) {
      return { state: 'pending', reason: `its object is being hashed (by ${marker.by})`, stored: info.upload.size ?? null, hashing: true };
    }
    const { sha256, size } = await this.#hashUnderMarker(id);
    const declared = typeof info.upload.metadata?.sha256 === 'string' ? info.upload.metadata.sha256 : null;
    const receipt = {
      format: RECEIPT_FORMAT,
      upload_id: id,
      bucket: this.bucket,
      key: id,
      size,
      length: info.upload.size ?? null,
      sha256,
      declared_sha256: declared,
      verdict: !declared || !SHA256_HEX.test(declared) ? 'not-declared'
        : declared === sha256 && size === info.upload.size ? 'matches' : 'differs',
      created_at: info.upload.creation_date ?? null,
      verified_at: new Date().toISOString(),
      assembled_by: assembledBy,
      verified_by: this.who,
      metadata: info.upload.metadata ?? {},
    };
    await this.client.send(
      new this.s3.PutObjectCommand({
        Bucket: this.bucket,
        Key: receiptKey(id),
        Body: JSON.stringify(receipt),
        ContentType: 'application/json',
      }),
    );
    await this.client.send(new this.s3.DeleteObjectCommand({ Bucket: this.bucket, Key: markerKey(id) }));
    return { state: 'received', receipt };
  }

  async #readMarker(id) {
    try {
      const { Body } = await this.client.send(
        new this.s3.GetObjectCommand({ Bucket: this.bucket, Key: markerKey(id) }),
      );
      const marker = JSON.parse(await Body.transformToString());
      return typeof marker?.by === 'string' && typeof marker?.at === 'string' ? marker : null;
    } catch (e) {
      if (isNotFound(e) || e instanceof SyntaxError) return null;
      throw e;
    }
  }

  async #putMarker(id) {
    await this.client.send(
      new this.s3.PutObjectCommand({
        Bucket: this.bucket,
        Key: markerKey(id),
        Body: JSON.stringify({ by: this.who, at: new Date().toISOString() }),
        ContentType: 'application/json',
      }),
    );
  }

  // Hashes the object with this process's marker kept fresh meanwhile, as long as the hashing
  // moves: a read from the store that stalls lets the marker lapse, so that another process
  // takes over rather than wait on this one for ever.
  async #hashUnderMarker(id) {
    await this.#putMarker(id);
    const progress = { bytes: 0 };
    let seen = 0;
    const renew = setInterval(() => {
      if (progress.bytes === seen) return;
      seen = progress.bytes;
      this.#putMarker(id).catch(() => {});
    }, HASH_RENEW_MS);
    try {
      return await this.#hash(id, progress);
    } finally {
      clearInterval(renew);
    }
  }

  // The upload's tus record (@tus/s3-store's .info: the Upload as JSON, the multipart upload's
  // id in the object's metadata), or null if there is none.
  async #readInfo(id) {
    try {
      const { Body, Metadata } = await this.client.send(
        new this.s3.GetObjectCommand({ Bucket: this.bucket, Key: infoKey(id) }),
      );
      const text = await Body.transformToString();
      let upload;
      try {
        upload = JSON.parse(text);
      } catch {
        upload = null;
      }
      if (!upload || typeof upload !== 'object' || Array.isArray(upload)) {
        throw new Error(`its record ${infoKey(id)} is not a JSON object`);
      }
      return { upload, multipartId: Metadata?.['upload-id'] };
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async #exists(key) {
    try {
      await this.client.send(new this.s3.HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  // Completes the multipart upload of `id` if its parts hold all its bytes. Returns nothing once
  // the object exists (assembled here or, in a race, by its tus server), or why it is pending.
  async #assemble(id, info) {
    const length = info.upload.size;
    if (!Number.isSafeInteger(length)) return { state: 'pending', reason: 'its length is not declared yet', stored: 0 };
    if (!info.multipartId) return { state: 'pending', reason: 'its record names no multipart upload', stored: 0 };
    let parts;
    try {
      parts = await this.#parts(id, info.multipartId);
    } catch (e) {
      if (!isNoSuchUpload(e)) throw e;
      // Completed (or aborted) since we looked: the object decides.
      if (await this.#exists(id)) return null;
      return { state: 'pending', reason: 'its multipart upload is gone and no object was assembled', stored: 0 };
    }
    const stored = parts.reduce((sum, p) => sum + (p.Size ?? 0), 0);
    if (stored !== length) return { state: 'pending', reason: `${stored} of ${length} bytes are stored`, stored };
    if (parts.length === 0) {
      // S3 assembles nothing from no parts: an empty upload gets one empty part, as its tus
      // server would have given it.
      const { ETag } = await this.client.send(
        new this.s3.UploadPartCommand({ Bucket: this.bucket, Key: id, UploadId: info.multipartId, PartNumber: 1, Body: Buffer.alloc(0) }),
      );
      parts = [{ ETag, PartNumber: 1 }];
    }
    try {
      await this.client.send(
        new this.s3.CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: id,
          UploadId: info.multipartId,
          MultipartUpload: { Parts: parts.map((p) => ({ ETag: p.ETag, PartNumber: p.PartNumber })) },
        }),
      );
    } catch (e) {
      if (!isNoSuchUpload(e) || !(await this.#exists(id))) throw e;
    }
    return null;
  }

  async #parts(id, multipartId) {
    const parts = [];
    let marker;
    for (;;) {
      const page = await this.client.send(
        new this.s3.ListPartsCommand({ Bucket: this.bucket, Key: id, UploadId: multipartId, PartNumberMarker: marker }),
      );
      parts.push(...(page.Parts ?? []));
      if (!page.IsTruncated) break;
      marker = page.NextPartNumberMarker;
    }
    return parts.sort((a, b) => a.PartNumber - b.PartNumber);
  }

  async #hash(key, progress = { bytes: 0 }) {
    const { Body } = await this.client.send(new this.s3.GetObjectCommand({ Bucket: this.bucket, Key: key }));
    const hash = crypto.createHash('sha256');
    for await (const chunk of Body) {
      hash.update(chunk);
      progress.bytes += chunk.length;
    }
    return { sha256: hash.digest('hex'), size: progress.bytes };
  }

  // The ids of the uploads in the bucket that have a tus record but no receipt yet.
  async unsettled() {
    const infos = new Set();
    const receipts = new Set();
    let token;
    do {
      const page = await this.client.send(
        new this.s3.ListObjectsV2Command({ Bucket: this.bucket, ContinuationToken: token }),
      );
      for (const { Key } of page.Contents ?? []) {
        if (Key.endsWith('.info')) infos.add(Key.slice(0, -'.info'.length));
        else if (Key.endsWith('.receipt')) receipts.add(Key.slice(0, -'.receipt'.length));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return [...infos].filter((id) => !receipts.has(id)).sort();
  }
}
