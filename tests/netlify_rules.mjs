// Netlify's own parsers read a built site's _headers and _redirects; prints {headers, redirects} as JSON.
// Usage: node tests/netlify_rules.mjs OUTPUT/_headers OUTPUT/_redirects (npm ci installs both parsers).
import { parseAllHeaders } from "netlify-headers-parser";
import { parseAllRedirects } from "netlify-redirect-parser";

const [headersFile, redirectsFile] = process.argv.slice(2);
const headers = await parseAllHeaders({ headersFiles: [headersFile], configHeaders: [], minimal: true });
const redirects = await parseAllRedirects({ redirectsFiles: [redirectsFile], configRedirects: [], minimal: true });
console.log(JSON.stringify({ headers, redirects }));
