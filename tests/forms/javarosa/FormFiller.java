// Fills an XForm in javarosa, the form engine inside ODK Collect (bundled in pyxform's ODK_Validate.jar), to test
// skip logic and constraints as a phone evaluates them, not as we think it should.
//
// Usage: java -cp ODK_Validate.jar:<classes> FormFiller FORM.xml MEDIA_DIR SCENARIOS.txt
// SCENARIOS.txt: blocks of `field=value` lines (select_multiple: values separated by spaces), each block starting
// with `# scenario-name` and ending with `---`. A field may be given several times: the values are entered in turn,
// as a volunteer corrects an answer the phone rejected. For every scenario the form is opened afresh and walked
// from start to end; output, one line per event:
//   SCENARIO name | ASKED field | CHOICES field v1 v2 ... | ANSWER field value OK|REQUIRED|CONSTRAINT
//   | FINALIZED or INCOMPLETE first-unanswered-field | INSTANCE <the submission XML, one line> | END
// FINALIZED is what ODK Collect's "Finalize" checks: every relevant required question answered, constraints hold.
// A field is ASKED when javarosa shows it (it and all its groups are relevant); CHOICES are the choices it offers
// at that moment (after choice_filter); fields without a given value are left empty, as when swiping past.
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;

import org.javarosa.core.model.FormDef;
import org.javarosa.core.model.SelectChoice;
import org.javarosa.core.model.ValidateOutcome;
import org.javarosa.core.model.data.AnswerDataFactory;
import org.javarosa.core.model.data.IAnswerData;
import org.javarosa.core.model.data.UncastData;
import org.javarosa.core.model.instance.InstanceInitializationFactory;
import org.javarosa.core.reference.*;
import org.javarosa.core.services.PropertyManager;
import org.javarosa.form.api.FormEntryController;
import org.javarosa.form.api.FormEntryModel;
import org.javarosa.form.api.FormEntryPrompt;
import org.javarosa.model.xform.XFormSerializingVisitor;
import org.javarosa.xform.util.XFormUtils;
import org.opendatakit.validate.StubPropertyManager;

public class FormFiller {
    /** Resolves jr://file/, jr://file-csv/ ... to the form's media folder, as ODK Collect does. */
    static final class MediaFolder implements ReferenceFactory {
        private final Path folder;
        MediaFolder(Path folder) { this.folder = folder; }
        public boolean derives(String uri) { return uri.startsWith("jr://file"); }
        public Reference derive(String uri, String context) { return derive(uri); }
        public Reference derive(String uri) {
            final Path file = folder.resolve(uri.substring(uri.lastIndexOf('/') + 1));
            return new Reference() {
                public boolean doesBinaryExist() { return Files.exists(file); }
                public InputStream getStream() throws IOException { return Files.newInputStream(file); }
                public String getURI() { return uri; }
                public String getLocalURI() { return file.toString(); }
                public boolean isReadOnly() { return true; }
                public OutputStream getOutputStream() throws IOException { throw new IOException("read-only"); }
                public void remove() throws IOException { throw new IOException("read-only"); }
                public Reference[] probeAlternativeReferences() { return new Reference[0]; }
            };
        }
    }

    public static void main(String[] args) throws Exception {
        Path form = Paths.get(args[0]);
        ReferenceManager.instance().addReferenceFactory(new MediaFolder(Paths.get(args[1])));
        // deviceid / username preloads read device properties; ODK Validate's stub answers them as on a phone.
        PropertyManager.setPropertyManager(new StubPropertyManager());
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        String name = null;
        Map<String, List<String>> answers = new LinkedHashMap<>();
        for (String line : Files.readAllLines(Paths.get(args[2]), StandardCharsets.UTF_8)) {
            if (line.startsWith("# ")) {
                name = line.substring(2).trim();
            } else if (line.equals("---")) {
                fill(form, name, answers, out);
                answers.clear();
            } else if (line.contains("=")) {
                String field = line.substring(0, line.indexOf('='));
                answers.computeIfAbsent(field, f -> new ArrayList<>()).add(line.substring(line.indexOf('=') + 1));
            }
        }
    }

    static void fill(Path form, String scenario, Map<String, List<String>> answers, PrintStream out) throws Exception {
        FormDef formDef;
        try (InputStream in = Files.newInputStream(form)) {
            formDef = XFormUtils.getFormFromInputStream(in);
        }
        formDef.initialize(true, new InstanceInitializationFactory());
        FormEntryModel model = new FormEntryModel(formDef);
        FormEntryController controller = new FormEntryController(model);
        out.println("SCENARIO " + scenario);
        int event;
        while ((event = controller.stepToNextEvent()) != FormEntryController.EVENT_END_OF_FORM) {
            if (event != FormEntryController.EVENT_QUESTION) continue;
            FormEntryPrompt prompt = model.getQuestionPrompt();
            String field = prompt.getIndex().getReference().getNameLast();
            out.println("ASKED " + field);
            if (prompt.getSelectChoices() != null) {
                StringBuilder offered = new StringBuilder("CHOICES " + field);
                for (SelectChoice choice : prompt.getSelectChoices()) offered.append(' ').append(choice.getValue());
                out.println(offered);
            }
            for (String value : answers.getOrDefault(field, List.of())) {
                IAnswerData data = AnswerDataFactory.templateByDataType(prompt.getDataType()).cast(new UncastData(value));
                int status = controller.answerQuestion(prompt.getIndex(), data, true);
                String verdict = status == FormEntryController.ANSWER_OK ? "OK"
                        : status == FormEntryController.ANSWER_CONSTRAINT_VIOLATED ? "CONSTRAINT" : "REQUIRED";
                out.println("ANSWER " + field + " " + value.replace(' ', '+') + " " + verdict);
            }
        }
        ValidateOutcome outcome = formDef.validate(true);  // as on "Finalize": null when the form may be sent
        out.println(outcome == null ? "FINALIZED" : "INCOMPLETE " + outcome.failedPrompt.getReference().getNameLast());
        byte[] instance = new XFormSerializingVisitor().serializeInstance(formDef.getInstance());
        out.println("INSTANCE " + new String(instance, StandardCharsets.UTF_8).replace("\n", " "));
        out.println("END");
    }
}
