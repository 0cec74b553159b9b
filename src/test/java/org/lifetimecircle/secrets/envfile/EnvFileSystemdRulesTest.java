package org.lifetimecircle.secrets.envfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;


import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The reference reader the env file is checked against follows systemd.exec(5) on each documented rule; with no
 * systemd running here, these cases are what make its verdicts worth trusting.
 */
class EnvFileSystemdRulesTest {

    @Test
    void commentsBlankLinesAndLinesWithoutAnEqualsSignAreIgnored() {
        assertThat(parse("# comment \\\n; another\n\n   \nNOEQUALS\nA=1\n")).isEqualTo(Map.of("A", "1"));
    }

    @Test
    void whitespaceAroundTheKeyAndAtTheEdgesOfAnUnquotedValueIsDiscarded() {
        assertThat(parse("  A \t=  x  y \t\n")).isEqualTo(Map.of("A", "x  y"));
    }

    @Test
    void hashAndQuotesAfterTheFirstCharacterOfAnUnquotedValueAreKept() {
        assertThat(parse("A=#x\nB=a #b\nC=a'b\"c\n")).isEqualTo(Map.of("A", "#x", "B", "a #b", "C", "a'b\"c"));
    }

    @Test
    void aBackslashInAnUnquotedValueKeepsTheNextCharacterAndJoinsLines() {
        assertThat(parse("A=a\\\\b\nB=x\\\ny\nC=q\\'\n")).isEqualTo(Map.of("A", "a\\b", "B", "xy", "C", "q'"));
    }

    @Test
    void singleQuotedValuesAreVerbatimAndMaySpanLines() {
        assertThat(parse("A=' a\\n $HOME \"#\" '\nB='x\ny'\n"))
                .isEqualTo(Map.of("A", " a\\n $HOME \"#\" ", "B", "x\ny"));
    }

    @Test
    void doubleQuotedValuesUnescapeOnlyQuoteBackslashBacktickAndDollar() {
        assertThat(parse("A=\"x\\\"y\\\\z\\`\\$\\q\"\n")).isEqualTo(Map.of("A", "x\"y\\z`$\\q"));
    }

    @Test
    void adjacentPiecesAreConcatenatedButQuotesAfterAnUnquotedPieceStayLiteral() {
        // So the shell's '\'' idiom for a single quote does not carry over: bash reads B as a'b.
        assertThat(parse("A='it''s'\nB='a'\\''b'\n")).isEqualTo(Map.of("A", "its", "B", "a''b'"));
    }

    @Test
    void carriageReturnsEndLinesAndNothingIsExpanded() {
        assertThat(parse("A=1\r\nB=${A}$A\r\n")).isEqualTo(Map.of("A", "1", "B", "${A}$A"));
    }

    @Test
    void whatSystemdRefusesFailsTheRead() {
        assertThatThrownBy(() -> parse("1A=x\n")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> parse("\uFEFFA=x\n")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> parse("A=x\uFDD0\n")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SystemdEnvironmentFile.parse(new byte[] {'A', '=', (byte) 0xC3, '\n'}))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static Map<String, String> parse(String file) {
        return SystemdEnvironmentFile.parse(file.getBytes(StandardCharsets.UTF_8));
    }
}
