package io.homing.testing;

import io.grpc.util.CertificateUtils;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A development CA and a server certificate it signed, for {@code localhost} and {@code
 * 127.0.0.1} (subject alternative names), made with the {@code openssl} command in a folder:
 * {@code ca.pem} (the CA certificate, what clients trust), {@code ca.key}, {@code server.pem} (the
 * server certificate) and {@code server.key} (its private key, PKCS#8 PEM, as the edge wants).
 * ECDSA P-256 keys, valid for 30 days. Never for production.
 *
 * <p>{@code deploy/local/dev-tls.sh} makes the same files for the local stack.
 */
public final class DevCertificates {
  private static final long TIMEOUT_SECONDS = 30;

  private final Path dir;

  private DevCertificates(Path dir) {
    this.dir = dir;
  }

  /** Makes a new CA and server certificate in a new temporary folder. */
  public static DevCertificates create() {
    try {
      return create(Files.createTempDirectory("homing-tls-"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Makes a new CA and server certificate in {@code dir}, replacing any there. */
  public static DevCertificates create(Path dir) {
    DevCertificates certificates = new DevCertificates(dir);
    try {
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("server.ext"), String.join("\n",
          "basicConstraints = critical, CA:FALSE",
          "keyUsage = critical, digitalSignature",
          "extendedKeyUsage = serverAuth",
          "subjectAltName = DNS:localhost, IP:127.0.0.1",
          ""));
      certificates.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
          "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
          "-subj", "/CN=Homing development CA",
          "-addext", "basicConstraints = critical, CA:TRUE",
          "-addext", "keyUsage = critical, keyCertSign, cRLSign");
      certificates.openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
          "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key", "-out", "server.csr",
          "-subj", "/CN=localhost");
      certificates.openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey",
          "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "30",
          "-extfile", "server.ext");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make development certificates in " + dir, e);
    }
    return certificates;
  }

  /** The CA certificate (PEM): what a client trusts. */
  public Path caCertificate() {
    return dir.resolve("ca.pem");
  }

  /** The server certificate (PEM), for localhost and 127.0.0.1. */
  public Path serverCertificate() {
    return dir.resolve("server.pem");
  }

  /** The server certificate's private key (PKCS#8 PEM, {@code BEGIN PRIVATE KEY}). */
  public Path serverKey() {
    return dir.resolve("server.key");
  }

  /**
   * Makes a client certificate for mutual TLS, signed by this CA, with {@code name} as its
   * subject's CN: {@code <file>.pem} and {@code <file>.key} (PKCS#8 PEM), where {@code file} is
   * {@code name} with every character but letters, digits and dashes replaced by {@code _}.
   *
   */
  public Identity clientCertificate(String name) {
    return sign(name, "clientAuth", "");
  }

  private Identity sign(String name, String extendedKeyUsage, String moreExtensions) {
    String file = name.replaceAll("[^A-Za-z0-9-]", "_");
    try {
      Files.writeString(dir.resolve(file + ".ext"), String.join("\n",
          "basicConstraints = critical, CA:FALSE",
          "keyUsage = critical, digitalSignature",
          "extendedKeyUsage = " + extendedKeyUsage,
          moreExtensions,
          ""));
      openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
          "-keyout", file + ".key", "-out", file + ".csr", "-subj", "/CN=" + name);
      openssl("x509", "-req", "-in", file + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
          "-CAcreateserial", "-out", file + ".pem", "-days", "30", "-extfile", file + ".ext");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make a certificate for " + name + " in " + dir, e);
    }
    return new Identity(dir.resolve(file + ".pem"), dir.resolve(file + ".key"));
  }

  /**
   * Makes a certificate for one of the platform's own processes (core, an edge, Kafka, Redis),
   * signed by this CA, good for both ends of mutual TLS: subject CN {@code name}, extended key
   * usages serverAuth and clientAuth, and the subject alternative names {@code name}, {@code
   * localhost} and 127.0.0.1. Files as for {@link #clientCertificate}.
   */
  public Identity peerCertificate(String name) {
    return peerCertificate(name, "DNS:" + name + ", DNS:localhost, IP:127.0.0.1");
  }

  /**
   * As {@link #peerCertificate(String)}, with these subject alternative names alone ({@code
   * DNS:homing-edge}, {@code IP:10.0.0.5}, comma-separated): a certificate that does not name
   * 127.0.0.1 fails a client's host name check there.
   */
  public Identity peerCertificate(String name, String subjectAltNames) {
    return sign(name, "serverAuth, clientAuth", "subjectAltName = " + subjectAltNames);
  }

  /** A certificate (PEM) and its private key (PKCS#8 PEM). */
  public record Identity(Path certificate, Path privateKey) {}

  /** A JDK TLS context that trusts this CA alone, for clients built on the JDK's sockets. */
  public SSLContext clientContext() {
    return clientContext(null);
  }

  /**
   * A JDK TLS context that trusts this CA alone and presents {@code identity}'s certificate (none
   * when null), for clients built on the JDK's sockets.
   */
  public SSLContext clientContext(Identity identity) {
    try (InputStream in = Files.newInputStream(caCertificate())) {
      CertificateFactory x509 = CertificateFactory.getInstance("X.509");
      KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
      trusted.load(null, null);
      trusted.setCertificateEntry("homing-dev-ca", x509.generateCertificate(in));
      TrustManagerFactory trust =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(trusted);
      KeyManager[] keys = null;
      if (identity != null) {
        KeyStore own = KeyStore.getInstance(KeyStore.getDefaultType());
        own.load(null, null);
        char[] none = new char[0];
        try (InputStream chain = Files.newInputStream(identity.certificate());
            InputStream key = Files.newInputStream(identity.privateKey())) {
          own.setKeyEntry("identity", CertificateUtils.getPrivateKey(key), none,
              CertificateUtils.getX509Certificates(chain));
        }
        KeyManagerFactory factory =
            KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(own, none);
        keys = factory.getKeyManagers();
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys, trust.getTrustManagers(), null);
      return context;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot load " + caCertificate() + ": " + e.getMessage(), e);
    }
  }


  private void openssl(String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of("openssl"));
    command.addAll(List.of(args));
    Path log = dir.resolve("openssl.log");
    Process process = new ProcessBuilder(command).directory(dir.toFile())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException("openssl " + args[0] + " did not finish in " + TIMEOUT_SECONDS + " s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new IOException("interrupted while running openssl", e);
    }
    if (process.exitValue() != 0) {
      throw new IOException("openssl " + String.join(" ", args) + " failed ("
          + process.exitValue() + "): " + Files.readString(log, StandardCharsets.UTF_8));
    }
  }
}
