// Reads a served result with Edge Impulse's official npm client (edge-impulse-api), for
// tests/test_serve.py. Usage: node read_result.js BASE_URL PROJECT_ID VARIANT LIMIT OFFSET
// (VARIANT "-" = none). Prints one JSON object {full, page, unknownProjectError}: the full result
// and the page as the client returns them (objects, with its Date conversion of date-time
// strings), each written back with JSON.stringify as a string, and the client's error message for
// project 999999.
'use strict';
const { EdgeImpulseApi } = require('edge-impulse-api');

async function main() {
    const [baseUrl, projectId, variant, limit, offset] = process.argv.slice(2);
    const api = new EdgeImpulseApi({ endpoint: baseUrl });
    const classify = api.classify;
    const variantParam = variant === '-' ? {} : { variant };
    const full = await classify.getClassifyJobResult(Number(projectId), variantParam);
    const page = await classify.getClassifyJobResultPage(Number(projectId), {
        ...variantParam, limit: Number(limit), offset: Number(offset),
    });
    let unknownProjectError = null;
    try {
        await classify.getClassifyJobResult(999999);
    } catch (err) {
        unknownProjectError = String(err.message);
    }
    process.stdout.write(JSON.stringify({
        full: JSON.stringify(full), page: JSON.stringify(page), unknownProjectError,
    }));
}

main().catch((err) => {
    process.stderr.write(`read_result.js: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
});
