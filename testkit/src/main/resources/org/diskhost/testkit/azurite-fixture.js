// Test fixture operations on Azurite with the Azure SDK (@azure/storage-blob): an implementation independent of
// diskhost's own REST client, so that what one writes the other reads. Run by testkit's Azurite class as
//   node azurite-fixture.js COMMAND ARGS...   with AZURITE_BLOB_URL, AZURITE_ACCOUNT, AZURITE_KEY in the environment
// and NODE_PATH pointing at the install folder's node_modules. Results go to standard output.
"use strict";
const fs = require("fs");
const {
  BlobServiceClient, StorageSharedKeyCredential, generateBlobSASQueryParameters, BlobSASPermissions,
} = require("@azure/storage-blob");

const credential = new StorageSharedKeyCredential(process.env.AZURITE_ACCOUNT, process.env.AZURITE_KEY);
const service = new BlobServiceClient(process.env.AZURITE_BLOB_URL, credential);
const [command, container, blob, ...rest] = process.argv.slice(2);

async function main() {
  const c = service.getContainerClient(container);
  const b = blob === undefined ? undefined : c.getPageBlobClient(blob);
  switch (command) {
    case "container":
      await c.createIfNotExists();
      return;
    case "page-blob": // SIZE: a new, empty (all holes) page blob
      await b.create(Number(rest[0]));
      return;
    case "put-pages": { // OFFSET FILE: the file's bytes at OFFSET, in Put Page calls of at most 4 MiB
      const data = fs.readFileSync(rest[1]);
      for (let at = 0; at < data.length; at += 4 << 20) {
        const part = data.subarray(at, Math.min(data.length, at + (4 << 20)));
        await b.uploadPages(part, Number(rest[0]) + at, part.length);
      }
      return;
    }
    case "block-blob": // FILE
      await c.getBlockBlobClient(blob).uploadFile(rest[0]);
      return;
    case "download": // FILE [OFFSET COUNT]
      await c.getBlobClient(blob).downloadToFile(rest[0], rest[1] === undefined ? 0 : Number(rest[1]),
          rest[2] === undefined ? undefined : Number(rest[2]));
      return;
    case "page-ranges": { // OFFSET COUNT: "start end" lines (end inclusive)
      const r = await b.getPageRanges(Number(rest[0]), Number(rest[1]));
      // This SDK maps each range to {offset, count} with count = end - start (end inclusive).
      for (const p of r.pageRange || []) {
        console.log(p.offset + " " + (p.offset + p.count));
      }
      return;
    }
    case "resize": // SIZE: Set Blob Properties with a new content length
      await b.resize(Number(rest[0]));
      return;
    case "properties": { // prints length, ETag, blob type, lease state
      const p = await b.getProperties();
      console.log([p.contentLength, p.etag, p.blobType, p.leaseState].join(" "));
      return;
    }
    case "lease": { // SECONDS (-1: infinite): acquires a lease, prints its id
      const l = await b.getBlobLeaseClient().acquireLease(Number(rest[0]));
      console.log(l.leaseId);
      return;
    }
    case "break-lease":
      await b.getBlobLeaseClient().breakLease(0);
      return;
    case "sas": { // PERMISSIONS (such as "r" or "racwd") MINUTES: a blob SAS query string
      const sas = generateBlobSASQueryParameters({
        containerName: container, blobName: blob, permissions: BlobSASPermissions.parse(rest[0]),
        startsOn: new Date(Date.now() - 5 * 60 * 1000), expiresOn: new Date(Date.now() + Number(rest[1]) * 60 * 1000),
      }, credential);
      console.log(sas.toString());
      return;
    }
    default:
      throw new Error("unknown command " + command);
  }
}

main().catch((e) => {
  console.error(String(e && e.stack || e));
  process.exit(1);
});
