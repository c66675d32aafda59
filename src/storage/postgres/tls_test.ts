import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { postgresTest, startPostgres, TEST_PASSWORD } from "./_testing.ts";
import { openPostgresStore, PostgresUnavailableError } from "./store.ts";

/** A CA and a server certificate it signed for localhost and 127.0.0.1, made with openssl. */
async function makeCertificates(dir: string, name: string): Promise<Record<string, string>> {
  const f = (x: string) => join(dir, `${name}-${x}`);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const steps = [
    [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      f("ca.key"),
      "-out",
      f("ca.crt"),
      "-subj",
      `/CN=${name} CA`,
      "-days",
      "2",
    ],
    ["req", ...ec, "-keyout", f("server.key"), "-out", f("server.csr"), "-subj", "/CN=localhost"],
    [
      "x509",
      "-req",
      "-in",
      f("server.csr"),
      "-CA",
      f("ca.crt"),
      "-CAkey",
      f("ca.key"),
      "-CAcreateserial",
      "-out",
      f("server.crt"),
      "-days",
      "2",
      "-extfile",
      f("ext"),
    ],
  ];
  await Deno.writeTextFile(f("ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  for (const args of steps) {
    const out = await new Deno.Command("openssl", { args, stdout: "null", stderr: "piped" })
      .output();
    if (!out.success) throw new Error(`openssl failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return {
    caFile: f("ca.crt"),
    certPem: await readFile(f("server.crt"), "utf8"),
    keyPem: await readFile(f("server.key"), "utf8"),
  };
}

postgresTest(
  "postgres store over TLS: sslmode=require and verify-full with the test's CA",
  async (bin, t) => {
    const dir = await mkdtemp(join(tmpdir(), "lonelypss-pg-tls-"));
    try {
      const good = await makeCertificates(dir, "good");
      const other = await makeCertificates(dir, "other");
      await using cluster = await startPostgres(bin, {
        tls: { certPem: good.certPem!, keyPem: good.keyPem! },
      });
      const roundTrip = async (url: string, caFile?: string) => {
        const store = await openPostgresStore({ url, ...(caFile ? { caFile } : {}) });
        try {
          const topic = new TextEncoder().encode(crypto.randomUUID());
          assert.equal(await store.subscribeExact("http://127.0.0.1:1/r", topic, null), "success");
          assert.equal((await store.getSubscribers(topic) as unknown[]).length, 1);
        } finally {
          await store.close();
        }
      };
      await t.step("the server refuses a client without TLS", async () => {
        await assert.rejects(
          openPostgresStore({ url: cluster.url("?sslmode=disable") }),
          (e: unknown) =>
            e instanceof PostgresUnavailableError && /no encryption/.test(e.message) &&
            !e.message.includes(TEST_PASSWORD),
        );
      });
      await t.step(
        "sslmode=require encrypts without checking the certificate",
        () => roundTrip(cluster.url("?sslmode=require")),
      );
      await t.step(
        "no sslmode means prefer: TLS when the server offers it",
        () => roundTrip(cluster.url()),
      );
      await t.step("verify-full with the CA as sslrootcert", () =>
        roundTrip(
          cluster.url(`?sslmode=verify-full&sslrootcert=${encodeURIComponent(good.caFile!)}`),
        ));
      await t.step("verify-full with the caFile option, by host name", () =>
        roundTrip(
          cluster.url("?sslmode=verify-full").replace("127.0.0.1", "localhost"),
          good.caFile,
        ));
      await t.step("verify-full refuses a server whose certificate another CA signed", async () => {
        await assert.rejects(
          openPostgresStore({ url: cluster.url("?sslmode=verify-full"), caFile: other.caFile! }),
          (e: unknown) =>
            e instanceof PostgresUnavailableError && /certificate|issuer/i.test(e.message) &&
            !e.message.includes(TEST_PASSWORD),
        );
      });
      await t.step("verify-full without a CA file checks against the system's CAs", async () => {
        await assert.rejects(
          openPostgresStore({ url: cluster.url("?sslmode=verify-full") }),
          /certificate|issuer/i,
        );
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);
