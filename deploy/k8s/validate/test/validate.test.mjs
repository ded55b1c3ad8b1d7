// The validator's own tests: every overlay renders and validates, and broken manifests fail, each
// for the reason it was broken (a check that cannot fail would prove nothing).
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateRawSync } from "node:zlib";
import { kubectl, kustomizeMajor, unzipEntry } from "../kubectl.mjs";
import {
  K8S_DIR, checkReferences, overlays, parseYaml, render, validateDocument, validateOverlay,
} from "../validate.mjs";

const copy = (doc) => JSON.parse(JSON.stringify(doc));
const production = render(join(K8S_DIR, "overlays", "production"));
const find = (kind, name) => {
  const doc = production.find((d) => d.kind === kind && d.metadata.name === name);
  assert.ok(doc, `${kind}/${name} rendered`);
  return copy(doc);
};

test("there are overlays, dev and production among them", () => {
  const names = overlays().map((d) => d.split("/").pop());
  assert.ok(names.includes("dev") && names.includes("production"), names.join(", "));
});

for (const dir of overlays()) {
  test(`overlay ${dir.split("/").pop()} renders and every document validates`, async () => {
    const { docs, problems } = await validateOverlay(dir);
    assert.ok(docs.length > 10, `${docs.length} documents`);
    assert.deepEqual(problems, []);
  });
}

test("the rendered edge Deployment is valid as it is", async () => {
  assert.deepEqual(await validateDocument(find("Deployment", "homing-edge")), []);
});

test("an unknown field at the top of spec fails", async () => {
  const doc = find("Deployment", "homing-edge");
  doc.spec.replica = 3;
  assert.deepEqual(await validateDocument(doc),
    ["/spec/replica: unknown field (apps/v1 Deployment)"]);
});

test("an unknown field deep in a container fails", async () => {
  const doc = find("StatefulSet", "homing-core");
  doc.spec.template.spec.containers[0].readinessProbe.httpGet.paht = "/health";
  doc.spec.template.spec.containers[0].imagePullPolicee = "Always";
  assert.deepEqual((await validateDocument(doc)).sort(), [
    "/spec/template/spec/containers/0/imagePullPolicee: unknown field (apps/v1 StatefulSet)",
    "/spec/template/spec/containers/0/readinessProbe/httpGet/paht: unknown field (apps/v1 StatefulSet)",
  ]);
});

test("an unknown field in a volume claim template fails", async () => {
  const doc = find("StatefulSet", "homing-core");
  doc.spec.volumeClaimTemplates[0].spec.storageClass = "fast";
  assert.deepEqual(await validateDocument(doc),
    ["/spec/volumeClaimTemplates/0/spec/storageClass: unknown field (apps/v1 StatefulSet)"]);
});

test("a wrong type fails", async () => {
  const doc = find("Deployment", "homing-edge");
  doc.spec.replicas = "3";
  const errors = await validateDocument(doc);
  assert.equal(errors.length, 1, errors.join("\n"));
  assert.match(errors[0], /spec\/replicas must be integer/);
});

test("a port that is neither a number nor a string fails", async () => {
  const doc = find("Service", "homing-edge");
  doc.spec.ports[0].port = { number: 7410 };
  assert.match((await validateDocument(doc)).join("\n"), /ports\/0\/port must be integer/);
});

test("a missing required field fails", async () => {
  const doc = find("Deployment", "homing-edge");
  delete doc.spec.template.spec.containers[0].name;
  assert.match((await validateDocument(doc)).join("\n"), /containers\/0 must have required property name/);
});

test("a value outside an enum fails", async () => {
  const doc = find("Service", "homing-edge");
  doc.spec.externalTrafficPolicy = "Locally";
  assert.match((await validateDocument(doc)).join("\n"), /externalTrafficPolicy must be equal to one of the allowed values/);
});

test("a ServiceMonitor with an unknown field or a wrong type fails", async () => {
  const unknown = find("ServiceMonitor", "homing");
  unknown.spec.endpoints[0].scrapeIntervall = "15s";
  assert.deepEqual(await validateDocument(unknown),
    ["/spec/endpoints/0/scrapeIntervall: unknown field (monitoring.coreos.com/v1 ServiceMonitor)"]);
  const wrong = find("ServiceMonitor", "homing");
  wrong.spec.endpoints[0].interval = 15;
  assert.match((await validateDocument(wrong)).join("\n"), /endpoints\/0\/interval must be string/);
});

test("a kind no package models fails rather than being skipped", async () => {
  const [doc] = parseYaml(`
apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaTopic
metadata: {name: outbound}
spec: {partitions: 8}
`);
  assert.deepEqual(await validateDocument(doc),
    ["no schema for apiVersion kafka.strimzi.io/v1beta2 kind KafkaTopic: cannot validate it"]);
  const nested = { apiVersion: "v1", kind: "Container", name: "x" };
  assert.match((await validateDocument(nested)).join(), /no schema for apiVersion v1 kind Container/);
  const misspelt = find("Deployment", "homing-edge");
  misspelt.apiVersion = "apps/v1beta3";
  assert.match((await validateDocument(misspelt)).join(), /no schema for apiVersion apps\/v1beta3/);
});

test("references: a selector that misses its template, a missing ConfigMap or Secret fail", () => {
  const docs = copy(production);
  const edge = docs.find((d) => d.kind === "Deployment" && d.metadata.name === "homing-edge");
  edge.spec.selector.matchLabels["app.kubernetes.io/name"] = "homing-edges";
  edge.spec.template.spec.containers[0].envFrom[0].configMapRef.name = "homing-konfig";
  edge.spec.template.spec.containers[0].env
    .find((e) => e.name === "HOMING_JWT_SECRET").valueFrom.secretKeyRef.name = "jwt";
  assert.deepEqual(checkReferences(docs), [
    "Deployment/homing-edge: selector does not match its pod template's labels",
    "Deployment/homing-edge: container edge envFrom names ConfigMap homing-konfig, not rendered",
    "Deployment/homing-edge: env HOMING_JWT_SECRET names Secret jwt, neither rendered nor an expected external one",
  ]);
  assert.deepEqual(checkReferences(copy(production)), []);
});

test("references: a Service or ServiceMonitor that selects nothing fails", () => {
  const docs = copy(production);
  docs.find((d) => d.kind === "Service" && d.metadata.name === "homing-core").spec.selector =
    { "app.kubernetes.io/name": "homing-cor" };
  docs.find((d) => d.kind === "ServiceMonitor").spec.endpoints[0].port = "metric";
  assert.deepEqual(checkReferences(docs).sort(), [
    "Service/homing-core: selects no pod template of this render",
    "ServiceMonitor/homing: Service homing-core-internal has no port metric",
    "ServiceMonitor/homing: Service homing-edge-internal has no port metric",
    "ServiceMonitor/homing: Service homing-notifier-metrics has no port metric",
  ]);
});

test("an overlay that does not render fails with kubectl's message", () => {
  assert.throws(() => render(join(K8S_DIR, "no-such-overlay")), /kubectl kustomize .* failed/);
});

test("the kubectl that renders has kustomize v5 or later; an older one is told apart", () => {
  assert.ok(kustomizeMajor(kubectl()) >= 5, kubectl());
  const dir = mkdtempSync(join(tmpdir(), "kubectl-"));
  const old = join(dir, "kubectl");
  // What kubectl 1.20 (Debian 12's kubernetes-client) answers: no kustomizeVersion.
  writeFileSync(old, '#!/bin/sh\necho \'{"clientVersion":{"gitVersion":"v1.20.2"}}\'\n');
  chmodSync(old, 0o755);
  assert.equal(kustomizeMajor(old), 0);
  assert.equal(kustomizeMajor(join(dir, "missing")), 0);
});

test("unzipEntry reads a deflated entry of a zip archive", () => {
  const content = Buffer.from("kubectl ".repeat(100));
  const name = Buffer.from("kubectl/kubectl");
  const deflated = deflateRawSync(content);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(deflated.length, 18);
  local.writeUInt32LE(content.length, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(deflated.length, 20);
  central.writeUInt32LE(content.length, 24);
  central.writeUInt16LE(name.length, 28);
  central.writeUInt32LE(0, 42);
  const centralAt = local.length + name.length + deflated.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + name.length, 12);
  end.writeUInt32LE(centralAt, 16);
  const zip = Buffer.concat([local, name, deflated, central, name, end]);
  assert.deepEqual(unzipEntry(zip, "kubectl/kubectl"), content);
  assert.throws(() => unzipEntry(zip, "helm/helm"), /not in the archive/);
});
