// Renders every kustomize overlay of deploy/k8s with `kubectl kustomize` (kubectl.mjs: which one) and checks each rendered
// document against the Kubernetes schemas (npm kubernetes-models) and the Prometheus operator's
// (npm @kubernetes-models/prometheus-operator):
//
// - schema: types, enums, required fields, formats, as those packages' validators check them;
// - strict: no field the schema does not know. The packages' validators ignore unknown fields, as
//   the Kubernetes OpenAPI schemas allow them; the API server drops them (or, with strict field
//   validation, refuses them), so a misspelt field would silently do nothing. Each field is probed
//   by replacing its value with one no schema type accepts: a field the schema knows then fails
//   validation, an unknown one does not;
// - kinds: a document whose apiVersion and kind neither package models fails (no silent skip);
// - references within the render: selectors match their pod templates, Services and the
//   ServiceMonitor select something, and every ConfigMap and Secret a pod names is rendered too
//   or is one of EXTERNAL_SECRETS, which the operator creates (deploy/k8s/README.md).
//
// `node validate.mjs` validates every overlay; `node validate.mjs DIR...` the given ones.
import { execFileSync } from "node:child_process";
import { readdirSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { kubectl } from "./kubectl.mjs";

const here = dirname(fileURLToPath(import.meta.url));
export const K8S_DIR = resolve(here, "..");

/** Secrets the production overlay expects to exist already: never rendered from the repository. */
export const EXTERNAL_SECRETS = new Set(["homing-secrets", "homing-send-api-keys", "homing-admin-api-keys"]);

/** Every overlay: the folders of deploy/k8s/overlays holding a kustomization.yaml. */
export function overlays() {
  const root = join(K8S_DIR, "overlays");
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(root, e.name, "kustomization.yaml")))
    .map((e) => join(root, e.name))
    .sort();
}

/** The documents `kubectl kustomize dir` renders; throws with kubectl's message when it fails. */
export function render(dir) {
  let out;
  try {
    out = execFileSync(kubectl(), ["kustomize", dir], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 64 << 20,
    });
  } catch (e) {
    throw new Error(`kubectl kustomize ${dir} failed: ${e.stderr || e.message}`);
  }
  return parseYaml(out);
}

/** Parses a YAML stream into plain objects; a syntax error throws. */
export function parseYaml(text) {
  const docs = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(`YAML: ${doc.errors[0].message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) docs.push(value);
  }
  return docs;
}

/** The model class of a document's apiVersion and kind, or null when no package models it. */
export async function modelOf(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string" || !/^[A-Za-z0-9]+$/.test(kind)) {
    return null;
  }
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const module = group === "monitoring.coreos.com"
    ? `@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}/${kind}`
    : group === ""
      ? `kubernetes-models/${version}/${kind}`
      : `kubernetes-models/${group}/${version}/${kind}`;
  let exports;
  try {
    exports = await import(module);
  } catch {
    return null;
  }
  const model = exports[kind];
  // Models of nested types (Container, ...) have no apiVersion and kind of their own.
  if (typeof model !== "function" || model.apiVersion !== apiVersion || model.kind !== kind) {
    return null;
  }
  return model;
}

function schemaErrors(model, doc) {
  try {
    new model(doc).validate();
    return [];
  } catch (e) {
    return String(e.message).split("\n").filter(Boolean);
  }
}

const pointer = (path) => path.map((p) => "/" + String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("");

/** Fails every type, enum and format of a schema: not JSON at all. */
const PROBE = () => {};

function setAt(doc, path, value) {
  let node = doc;
  for (let i = 0; i < path.length - 1; i++) node = node[path[i]];
  node[path[path.length - 1]] = value;
}

/** The fields of doc (a valid document) that its schema does not know, as JSON pointers. */
function unknownFields(model, doc) {
  const unknown = [];
  const visit = (node, path) => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => visit(item, [...path, i]));
      return;
    }
    if (node === null || typeof node !== "object") return;
    for (const key of Object.keys(node)) {
      const at = [...path, key];
      const probe = JSON.parse(JSON.stringify(doc));
      setAt(probe, at, PROBE);
      if (schemaErrors(model, probe).length === 0) {
        unknown.push(pointer(at));
      } else {
        visit(node[key], at);
      }
    }
  };
  visit(doc, []);
  return unknown;
}

/**
 * The document as the API server decodes it, where that differs from the schema's letter: Secret
 * data is base64 that kustomize wraps at 76 characters, and the server's decoder (Go's
 * encoding/base64) skips line breaks, while the schema's "byte" format does not.
 */
function asTheServerReads(doc) {
  if (doc.apiVersion !== "v1" || doc.kind !== "Secret" || !doc.data || typeof doc.data !== "object") {
    return doc;
  }
  const data = Object.fromEntries(Object.entries(doc.data).map(([k, v]) =>
    [k, typeof v === "string" ? v.replace(/[\r\n]/g, "") : v]));
  return { ...doc, data };
}

/** What is wrong with one document, each a line naming where; [] when it is valid. */
export async function validateDocument(doc) {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return ["not an object"];
  const model = await modelOf(doc.apiVersion, doc.kind);
  if (!model) {
    return [`no schema for apiVersion ${doc.apiVersion} kind ${doc.kind}: cannot validate it`];
  }
  doc = asTheServerReads(doc);
  const errors = schemaErrors(model, doc);
  if (errors.length) return errors;
  return unknownFields(model, doc).map((p) => `${p}: unknown field (${doc.apiVersion} ${doc.kind})`);
}

const PODS = new Set(["Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"]);
const subset = (want, have) =>
  Object.entries(want || {}).every(([k, v]) => (have || {})[k] === v);

/** Cross-document checks of one render; each problem a line. */
export function checkReferences(docs) {
  const problems = [];
  const named = (kind) => new Set(docs.filter((d) => d.kind === kind).map((d) => d.metadata?.name));
  const configMaps = named("ConfigMap");
  const secrets = named("Secret");
  const workloads = docs.filter((d) => PODS.has(d.kind));
  const podLabels = workloads.map((w) => w.spec?.template?.metadata?.labels || {});
  for (const w of workloads) {
    const id = `${w.kind}/${w.metadata?.name}`;
    const labels = w.spec?.template?.metadata?.labels || {};
    if (w.spec?.selector && !subset(w.spec.selector.matchLabels, labels)) {
      problems.push(`${id}: selector does not match its pod template's labels`);
    }
    const pod = w.spec?.template?.spec || {};
    const needConfigMap = (name, where) => {
      if (!configMaps.has(name)) problems.push(`${id}: ${where} names ConfigMap ${name}, not rendered`);
    };
    const needSecret = (name, where, optional) => {
      if (!optional && !secrets.has(name) && !EXTERNAL_SECRETS.has(name)) {
        problems.push(`${id}: ${where} names Secret ${name}, neither rendered nor an expected external one`);
      }
    };
    for (const c of [...(pod.initContainers || []), ...(pod.containers || [])]) {
      for (const e of c.envFrom || []) {
        if (e.configMapRef && !e.configMapRef.optional) needConfigMap(e.configMapRef.name, `container ${c.name} envFrom`);
        if (e.secretRef) needSecret(e.secretRef.name, `container ${c.name} envFrom`, e.secretRef.optional);
      }
      for (const e of c.env || []) {
        const ref = e.valueFrom || {};
        if (ref.configMapKeyRef && !ref.configMapKeyRef.optional) needConfigMap(ref.configMapKeyRef.name, `env ${e.name}`);
        if (ref.secretKeyRef) needSecret(ref.secretKeyRef.name, `env ${e.name}`, ref.secretKeyRef.optional);
      }
    }
    for (const v of pod.volumes || []) {
      if (v.configMap && !v.configMap.optional) needConfigMap(v.configMap.name, `volume ${v.name}`);
      if (v.secret) needSecret(v.secret.secretName, `volume ${v.name}`, v.secret.optional);
    }
  }
  const services = docs.filter((d) => d.kind === "Service");
  for (const s of services) {
    const selector = s.spec?.selector;
    if (selector && !podLabels.some((labels) => subset(selector, labels))) {
      problems.push(`Service/${s.metadata?.name}: selects no pod template of this render`);
    }
  }
  for (const m of docs.filter((d) => d.kind === "ServiceMonitor")) {
    const matched = services.filter((s) => subset(m.spec?.selector?.matchLabels, s.metadata?.labels));
    if (!matched.length) problems.push(`ServiceMonitor/${m.metadata?.name}: selects no Service`);
    for (const ep of m.spec?.endpoints || []) {
      for (const s of matched) {
        if (ep.port && !(s.spec?.ports || []).some((p) => p.name === ep.port)) {
          problems.push(`ServiceMonitor/${m.metadata?.name}: Service ${s.metadata?.name} has no port ${ep.port}`);
        }
      }
    }
  }
  return problems;
}

/** Renders and validates one overlay: its documents and the problems found. */
export async function validateOverlay(dir) {
  const docs = render(dir);
  const problems = [];
  for (const doc of docs) {
    for (const e of await validateDocument(doc)) {
      problems.push(`${doc.kind}/${doc.metadata?.name}: ${e}`);
    }
  }
  problems.push(...checkReferences(docs));
  return { docs, problems };
}

async function main(args) {
  const dirs = args.length ? args.map((a) => resolve(a)) : overlays();
  console.log(`rendering with ${kubectl()}`);
  let failed = 0;
  for (const dir of dirs) {
    const { docs, problems } = await validateOverlay(dir);
    const kinds = [...new Set(docs.map((d) => d.kind))].sort().join(", ");
    if (problems.length) {
      failed++;
      console.log(`FAIL ${dir}: ${docs.length} documents, ${problems.length} problem(s)`);
      for (const p of problems) console.log(`  ${p}`);
    } else {
      console.log(`ok   ${dir}: ${docs.length} documents valid (${kinds})`);
    }
  }
  process.exitCode = failed ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main(process.argv.slice(2));
}
