// SPDX-License-Identifier: MIT
// Validate every document of the YAML streams named on the command line
// against the Kubernetes API schema (kubernetes-models' validate()).
// Each stream is read as YAML 1.1 (what kubectl's reader speaks) and as
// YAML 1.2; both must give the same objects.  Prints one line per
// document, "valid KIND NAME" or "INVALID KIND NAME: why", and exits 1
// when any document is invalid or a stream does not parse.
//
// kube-validate.cjs --get FILE KIND NAME PATH prints one value of one
// document instead (PATH: keys joined by '/'; a string as it is, anything
// else as JSON), for the test's checks.
"use strict";
const fs = require("fs");
const util = require("util");
const YAML = require("yaml");

const models = {
	"v1/Secret": require("kubernetes-models/v1/Secret").Secret,
	"v1/Service": require("kubernetes-models/v1/Service").Service,
	"v1/PersistentVolumeClaim": require("kubernetes-models/v1/PersistentVolumeClaim")
		.PersistentVolumeClaim,
	"apps/v1/StatefulSet": require("kubernetes-models/apps/v1/StatefulSet").StatefulSet,
	"networking.k8s.io/v1/NetworkPolicy": require("kubernetes-models/networking.k8s.io/v1/NetworkPolicy")
		.NetworkPolicy,
};

function parse(text, version) {
	const docs = YAML.parseAllDocuments(text, { version, uniqueKeys: true, strict: true });
	for (const d of docs)
		if (d.errors.length) throw new Error(`YAML ${version}: ${d.errors[0].message}`);
	return docs.map((d) => d.toJS());
}

if (process.argv[2] === "--get") {
	const [file, kind, name, path] = process.argv.slice(3);
	const obj = parse(fs.readFileSync(file, "utf8"), "1.1").find(
		(o) => o.kind === kind && o.metadata.name === name
	);
	let v = obj;
	for (const k of path.split("/")) v = v === undefined ? v : v[k];
	if (v === undefined) process.exit(1);
	console.log(typeof v === "string" ? v : JSON.stringify(v));
	process.exit(0);
}

let bad = 0;
for (const file of process.argv.slice(2)) {
	let objs;
	try {
		const text = fs.readFileSync(file, "utf8");
		objs = parse(text, "1.1");
		if (!util.isDeepStrictEqual(objs, parse(text, "1.2")))
			throw new Error("YAML 1.1 and 1.2 readers disagree");
	} catch (e) {
		console.log(`INVALID stream ${file}: ${e.message}`);
		bad++;
		continue;
	}
	for (const obj of objs) {
		const key = `${obj && obj.apiVersion}/${obj && obj.kind}`;
		const name = obj && obj.metadata && obj.metadata.name;
		const Model = models[key];
		try {
			if (!Model) throw new Error(`no model for ${key}`);
			new Model(obj).validate();
			console.log(`valid ${obj.kind} ${name}`);
		} catch (e) {
			console.log(`INVALID ${key} ${name}: ${e.message.replace(/\n/g, " ")}`);
			bad++;
		}
	}
}
process.exit(bad ? 1 : 0);
