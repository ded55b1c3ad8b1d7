package io.homing.runtime.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TokenSettingsTest {
  private static final String SECRET = "0123456789abcdef0123456789abcdef";

  @Test
  void needsASecretOrAJwksUrl() {
    assertThatThrownBy(() -> settings(null, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("tokens: no HS256 secret and no JWKS URL (expected: at least one of them)");
    assertThat(settings(SECRET, null).jwksUrl()).isEmpty();
    assertThat(settings(null, "https://auth.example/jwks.json").hs256Secret()).isEmpty();
  }

  @Test
  void refusesAShortSecretAndAUrlThatIsNotHttp() {
    assertThatThrownBy(() -> settings("short", null))
        .hasMessage("hs256Secret: 5 characters (expected: >= 32)");
    assertThatThrownBy(() -> settings(null, "file:///etc/jwks.json"))
        .hasMessage("jwksUrl: file:///etc/jwks.json (expected: an http or https URL with a host)");
  }

  @Test
  void refusesARefreshShorterThanTwoSecondsAndBlankClaims() {
    assertThatThrownBy(() -> new TokenSettings(Optional.of(SECRET), Optional.empty(),
        Duration.ofSeconds(1), Optional.empty(), Optional.empty()))
        .hasMessage("jwksRefresh: PT1S (expected: >= PT2S)");
    assertThatThrownBy(() -> new TokenSettings(Optional.of(SECRET), Optional.empty(),
        Duration.ofMinutes(5), Optional.of(" "), Optional.empty()))
        .hasMessage("issuer: ' ' (expected: not blank)");
  }

  @Test
  void fetchesAtMostTwiceInHalfTheRefreshCappedAtThirtySeconds() {
    assertThat(JwksKeys.rateLimitInterval(Duration.ofMinutes(5))).isEqualTo(Duration.ofSeconds(30));
    assertThat(JwksKeys.rateLimitInterval(Duration.ofSeconds(10))).isEqualTo(Duration.ofSeconds(5));
  }

  private static TokenSettings settings(String secret, String url) {
    return new TokenSettings(Optional.ofNullable(secret), Optional.ofNullable(url).map(URI::create),
        TokenSettings.DEFAULT_JWKS_REFRESH, Optional.empty(), Optional.empty());
  }
}
