package io.homing.notifier.push;

import com.eatthepath.pushy.apns.ApnsClientBuilder;
import com.eatthepath.pushy.apns.auth.ApnsSigningKey;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.Optional;

/**
 * How an {@link ApnsProvider} proves who it is (a .p8 signing key or a .p12 certificate) and
 * which CA it trusts besides the JDK's, read from their files once, when the provider is made, so
 * that a bad file fails the start rather than the first send.
 */
final class ApnsCredentials {
  private final ApnsSigningKey signingKey;
  private final X509Certificate certificate;
  private final PrivateKey certificateKey;
  private final X509Certificate[] trusted;

  private ApnsCredentials(ApnsSigningKey signingKey, X509Certificate certificate,
      PrivateKey certificateKey, X509Certificate[] trusted) {
    this.signingKey = signingKey;
    this.certificate = certificate;
    this.certificateKey = certificateKey;
    this.trusted = trusted;
  }

  /**
   * Reads them.
   *
   * @throws IllegalArgumentException when a file is not what it should be
   * @throws UncheckedIOException when a file cannot be read
   */
  static ApnsCredentials load(ApnsProvider.Auth auth, Optional<Path> trustedCa) {
    X509Certificate[] trusted = trustedCa.map(ApnsCredentials::certificates).orElse(null);
    if (auth instanceof ApnsProvider.TokenAuth token) {
      try {
        return new ApnsCredentials(ApnsSigningKey.loadFromPkcs8File(
            token.signingKey().toFile(), token.teamId(), token.keyId()), null, null, trusted);
      } catch (IOException e) {
        throw new UncheckedIOException("apns: cannot read " + token.signingKey(), e);
      } catch (GeneralSecurityException e) {
        throw new IllegalArgumentException("apns: " + token.signingKey()
            + " is not an EC P-256 key (expected: the .p8 file from Apple)", e);
      }
    }
    ApnsProvider.CertificateAuth certificate = (ApnsProvider.CertificateAuth) auth;
    char[] password = certificate.password().toCharArray();
    try (InputStream in = Files.newInputStream(certificate.p12())) {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(in, password);
      for (String alias : Collections.list(store.aliases())) {
        if (store.isKeyEntry(alias)) {
          return new ApnsCredentials(null, (X509Certificate) store.getCertificate(alias),
              (PrivateKey) store.getKey(alias, password), trusted);
        }
      }
      throw new IllegalArgumentException("apns: " + certificate.p12()
          + " holds no private key (expected: the certificate and its key)");
    } catch (IOException e) {
      throw new UncheckedIOException("apns: cannot read " + certificate.p12(), e);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "apns: cannot load " + certificate.p12() + ": " + e.getMessage(), e);
    }
  }

  /** Sets the credentials and trusted CA on a client being built. */
  void apply(ApnsClientBuilder builder) {
    if (signingKey != null) {
      builder.setSigningKey(signingKey);
    } else {
      builder.setClientCredentials(certificate, certificateKey, null);
    }
    if (trusted != null) {
      builder.setTrustedServerCertificateChain(trusted);
    }
  }

  private static X509Certificate[] certificates(Path pem) {
    try (InputStream in = Files.newInputStream(pem)) {
      return CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
          .map(X509Certificate.class::cast)
          .toArray(X509Certificate[]::new);
    } catch (IOException e) {
      throw new UncheckedIOException("apns: cannot read " + pem, e);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "apns: " + pem + " holds no PEM certificate: " + e.getMessage(), e);
    }
  }
}
