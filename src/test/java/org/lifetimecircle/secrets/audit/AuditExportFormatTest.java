package org.lifetimecircle.secrets.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lifetimecircle.secrets.web.JsonConfig;

/**
 * The export formats are a contract with auditors' tools: these tests fail if a single byte of
 * either format changes. The expected files were written by the implementation before the
 * hand-written formats (Jackson per JSONL line, the previous CSV writer, JCS-library hashes).
 */
class AuditExportFormatTest {

    private static final List<AuditEvent> EVENTS = GoldenChain.events();

    @Test
    void jsonlIsByteForByteThePreviousExport() throws IOException {
        StringBuilder out = new StringBuilder();
        for (AuditEvent e : EVENTS) {
            ExportFormat.jsonl(out, e);
            out.append('\n');
        }
        assertThat(out.toString().getBytes(StandardCharsets.UTF_8)).isEqualTo(golden("golden-export.jsonl"));
    }

    @Test
    void csvIsByteForByteThePreviousExport() throws IOException {
        StringBuilder out = new StringBuilder(ExportFormat.CSV_HEADER).append("\r\n");
        for (AuditEvent e : EVENTS) {
            ExportFormat.csv(out, e);
            out.append("\r\n");
        }
        assertThat(out.toString().getBytes(StandardCharsets.UTF_8)).isEqualTo(golden("golden-export.csv"));
    }

    @Test
    void jsonlEscapesEveryCharacterExactlyAsJacksonDoes() throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        new JsonConfig().customize(mapper);
        mapper.findAndRegisterModules();
        AuditEvent template = EVENTS.get(1);
        StringBuilder line = new StringBuilder();
        for (int c = 0; c <= 0xffff; c++) {
            String s = "a" + (char) c + "b" + (char) c;
            AuditEvent e = new AuditEvent(template.seq(), template.time(), s, template.action(), null, s,
                    template.outcome(), s, template.sourceIp(), template.details(), template.prevHash(), s);
            line.setLength(0);
            ExportFormat.jsonl(line, e);
            assertThat(line.toString()).as("U+%04X", c).isEqualTo(mapper.writeValueAsString(e));
        }
    }

    private static byte[] golden(String name) throws IOException {
        try (InputStream in = AuditExportFormatTest.class.getResourceAsStream("/audit/" + name)) {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        }
    }
}
