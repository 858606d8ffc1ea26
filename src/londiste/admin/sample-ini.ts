/** `londiste --ini`: filled in by the admin work. */
export const sampleIni = `[londiste]
db = dbname=node1
queue_name = replika
`;
