/**
 * External secondary instances (select_one_from_file / choice_filter) as enketo-core wants them.
 *
 * Why: enketo-core evaluates `instance('neighbourhoods')/root/item[...]` against XML documents only, so a CSV
 * media file must become `<root><item><name>…</name><label>…</label>…</item></root>` in the page, the same
 * shape ODK Collect and Enketo Express build from a CSV (one child element per column).
 */
import Papa from 'papaparse';

/**
 * Convert CSV text to the XML document enketo-core queries.
 * A column `label::Español (es)` becomes `<label lang="Español (es)">`, as ODK does for translated labels.
 * @param {string} csvText
 * @param {string} fileName - named in error messages
 * @returns {XMLDocument}
 */
export function csvToXmlDocument(csvText, fileName) {
    const parsed = Papa.parse(csvText.replace(/^\uFEFF/, ''), { header: true, skipEmptyLines: true });
    if (parsed.errors.length > 0) {
        const e = parsed.errors[0];
        throw new Error(`${fileName}: row ${e.row + 2}: ${e.message}`);
    }
    const doc = document.implementation.createDocument(null, 'root', null);
    const columns = parsed.meta.fields.map((field) => {
        const [name, lang] = field.split('::').map((part) => part.trim());
        try {
            doc.createElement(name);
        } catch {
            throw new Error(`${fileName}: column "${field}" is not a valid XML element name`);
        }
        return { field, name, lang };
    });
    for (const row of parsed.data) {
        const item = doc.createElement('item');
        for (const { field, name, lang } of columns) {
            const cell = doc.createElement(name);
            if (lang) cell.setAttribute('lang', lang);
            cell.textContent = row[field] ?? '';
            item.appendChild(cell);
        }
        doc.documentElement.appendChild(item);
    }
    return doc;
}

/**
 * Parse an external instance file by its media type (CSV or XML), as Enketo Express does.
 * @param {Response} response
 * @param {string} fileName
 * @returns {Promise<XMLDocument>}
 */
export async function externalInstanceDocument(response, fileName) {
    const text = await response.text();
    const type = (response.headers.get('Content-Type') || '').split(';')[0].trim();
    if (type === 'text/csv' || /\.csv$/i.test(fileName)) {
        return csvToXmlDocument(text, fileName);
    }
    const doc = new DOMParser().parseFromString(text, 'text/xml');
    if (doc.querySelector('parsererror')) {
        throw new Error(`${fileName}: not well-formed XML`);
    }
    return doc;
}
