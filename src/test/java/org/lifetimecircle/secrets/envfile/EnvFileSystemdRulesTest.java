package org.lifetimecircle.secrets.envfile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
        assertEquals(Map.of("A", "1"), parse("# comment \\\n; another\n\n   \nNOEQUALS\nA=1\n"));
    }

    @Test
    void whitespaceAroundTheKeyAndAtTheEdgesOfAnUnquotedValueIsDiscarded() {
        assertEquals(Map.of("A", "x  y"), parse("  A \t=  x  y \t\n"));
    }

    @Test
    void hashAndQuotesAfterTheFirstCharacterOfAnUnquotedValueAreKept() {
        assertEquals(Map.of("A", "#x", "B", "a #b", "C", "a'b\"c"), parse("A=#x\nB=a #b\nC=a'b\"c\n"));
    }

    @Test
    void aBackslashInAnUnquotedValueKeepsTheNextCharacterAndJoinsLines() {
        assertEquals(Map.of("A", "a\\b", "B", "xy", "C", "q'"), parse("A=a\\\\b\nB=x\\\ny\nC=q\\'\n"));
    }

    @Test
    void singleQuotedValuesAreVerbatimAndMaySpanLines() {
        assertEquals(Map.of("A", " a\\n $HOME \"#\" ", "B", "x\ny"), parse("A=' a\\n $HOME \"#\" '\nB='x\ny'\n"));
    }

    @Test
    void doubleQuotedValuesUnescapeOnlyQuoteBackslashBacktickAndDollar() {
        assertEquals(Map.of("A", "x\"y\\z`$\\q"), parse("A=\"x\\\"y\\\\z\\`\\$\\q\"\n"));
    }

    @Test
    void adjacentPiecesAreConcatenatedButQuotesAfterAnUnquotedPieceStayLiteral() {
        // So the shell's '\'' idiom for a single quote does not carry over: bash reads B as a'b.
        assertEquals(Map.of("A", "its", "B", "a''b'"), parse("A='it''s'\nB='a'\\''b'\n"));
    }

    @Test
    void carriageReturnsEndLinesAndNothingIsExpanded() {
        assertEquals(Map.of("A", "1", "B", "${A}$A"), parse("A=1\r\nB=${A}$A\r\n"));
    }

    @Test
    void whatSystemdRefusesFailsTheRead() {
        assertThrows(IllegalArgumentException.class, () -> parse("1A=x\n"));
        assertThrows(IllegalArgumentException.class, () -> parse("\uFEFFA=x\n"));
        assertThrows(IllegalArgumentException.class, () -> parse("A=x\uFDD0\n"));
        assertThrows(IllegalArgumentException.class,
                () -> SystemdEnvironmentFile.parse(new byte[] {'A', '=', (byte) 0xC3, '\n'}));
    }

    private static Map<String, String> parse(String file) {
        return SystemdEnvironmentFile.parse(file.getBytes(StandardCharsets.UTF_8));
    }
}
