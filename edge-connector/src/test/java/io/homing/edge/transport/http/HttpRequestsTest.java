package io.homing.edge.transport.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.homing.edge.session.JsonFrames;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

class HttpRequestsTest {
  @Test
  void theBearerHeaderWinsOverTheTokenParameter() {
    HttpRequest request = get("/sse?token=from-query");
    assertThat(HttpRequests.token(request)).isEqualTo("from-query");
    request.headers().set("Authorization", "bearer from-header");
    assertThat(HttpRequests.token(request)).isEqualTo("from-header");
    assertThat(HttpRequests.token(get("/sse"))).isEmpty();
  }

  @Test
  void lastEventIdOverridesLastSeq() {
    HttpRequest request = get("/sse?last_seq=4");
    assertThat(HttpRequests.lastSeq(request)).isEqualTo(4);
    request.headers().set("Last-Event-ID", "9");
    assertThat(HttpRequests.lastSeq(request)).isEqualTo(9);
    assertThat(HttpRequests.lastSeq(get("/sse"))).isZero();
  }

  @Test
  void numbersAreCheckedAndDefaulted() {
    assertThat(HttpRequests.number(get("/poll"), "after", 7, 100)).isEqualTo(7);
    assertThat(HttpRequests.number(get("/poll?after=12"), "after", 0, 100)).isEqualTo(12);
    assertThatThrownBy(() -> HttpRequests.number(get("/poll?after=x"), "after", 0, 100))
        .hasMessage("after: 'x' (expected: a number)");
    assertThatThrownBy(() -> HttpRequests.number(get("/poll?after=-1"), "after", 0, 100))
        .hasMessage("after: -1 (expected: 0..100)");
    assertThat(HttpRequests.path(get("/poll?after=1"))).isEqualTo("/poll");
  }

  @Test
  void aMalformedPercentEscapeIsNamedWithoutQuotingTheUri() {
    assertThat(HttpRequests.undecodable(get("/poll?after=1&token=a%20b"))).isNull();
    for (String uri : new String[] {"/poll%", "/%zz", "/poll?token=secret%", "/poll?after=%4"}) {
      assertThat(HttpRequests.undecodable(get(uri))).as(uri)
          .isEqualTo("the request URI has a malformed percent-escape (expected: % and two hex "
              + "digits)");
    }
  }

  @Test
  void anAckBodyIsTheJsonMappingOfAck() {
    assertThat(JsonFrames.parseAck("{\"seq\":\"7\",\"future\":1}").getSeq()).isEqualTo(7);
    assertThatThrownBy(() -> JsonFrames.parseAck("{\"seq\":\"0\"}"))
        .hasMessage("seq: 0 (expected: > 0)");
    assertThatThrownBy(() -> JsonFrames.parseAck("seq=7"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static HttpRequest get(String uri) {
    return new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
  }
}
