/**
 * External secondary instances (select_one_from_file / choice_filter) as enketo-core wants them.
 *
 * Why: enketo-core evaluates `instance('neighbourhoods')/root/item[...]` against XML documents only, so a CSV
 * media file must become `<root><item><name>…</name><label>…</label>…</item></root>` in the page, the same
 * shape ODK Collect and Enketo Express build from a CSV (one child element per column).
 */
import Papa from 'papaparse';

/**
 * Convert CSV text to the XML document enketo-core queries: one `<item>` per row, one child per column.
 * @param {string} csvText
 * @param {string} fileName - named in error messages
 * @returns {XMLDocument}
 */
function csvToXmlDocument(csvText, fileName) {
    const parsed = Papa.parse(csvText.replace(/^\uFEFF/, ''), { header: true, skipEmptyLines: true });
    if (parsed.errors.length > 0) {
        const e = parsed.errors[0];
        throw new Error(`${fileName}: row ${e.row + 2}: ${e.message}`);
    }
    const doc = document.implementation.createDocument(null, 'root', null);
    for (const column of parsed.meta.fields) {
        try {
            doc.createElement(column);
        } catch {
            throw new Error(`${fileName}: column "${column}" is not a valid XML element name`);
        }
    }
    for (const row of parsed.data) {
        const item = doc.createElement('item');
        for (const column of parsed.meta.fields) {
            const cell = doc.createElement(column);
            cell.textContent = row[column] ?? '';
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
