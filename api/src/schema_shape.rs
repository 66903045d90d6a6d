//! The shape of a schema of the OpenAPI document as CSV columns: how the exports name the
//! columns of an item (nested objects as `parent_child`), and how an import reads them back.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The OpenAPI document's schemas, read once.
pub fn schemas() -> &'static Value {
    static SCHEMAS: OnceLock<Value> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        serde_json::to_value(crate::spec())
            .ok()
            .and_then(|d| d.pointer("/components/schemas").cloned())
            .unwrap_or(Value::Null)
    })
}

/// A schema with its `$ref`s followed and its `oneOf` variants' properties merged.
pub fn resolve(schema: &Value) -> Value {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or("");
        return resolve(schemas().get(name).unwrap_or(&Value::Null));
    }
    if let Some(variants) = schema.get("oneOf").and_then(Value::as_array) {
        let resolved: Vec<Value> = variants
            .iter()
            .map(resolve)
            .filter(|v| v.get("type") != Some(&Value::String("null".into())))
            .collect();
        let mut props = Map::new();
        for v in &resolved {
            if let Some(p) = v.get("properties").and_then(Value::as_object) {
                props.extend(p.clone());
            }
        }
        if props.is_empty() {
            return resolved.into_iter().next().unwrap_or(Value::Null);
        }
        return serde_json::json!({"type": "object", "properties": props});
    }
    schema.clone()
}

/// The first type a schema allows other than null.
pub fn kind(schema: &Value) -> &str {
    match schema.get("type") {
        Some(Value::String(t)) => t,
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("string"),
        _ if schema.get("properties").is_some() => "object",
        _ => "string",
    }
}

/// The columns a schema reads, flattened as the exports write them.
pub fn columns_of(schema: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    let mut cols = Vec::new();
    ordered(schema, prefix, &mut cols);
    out.extend(cols);
}

/// The columns of the schema `name`, in the order of its properties.
pub fn columns(name: &str) -> Option<Vec<String>> {
    let schema = schemas().get(name)?;
    let mut out = Vec::new();
    ordered(schema, "", &mut out);
    (!out.is_empty()).then_some(out)
}

fn ordered(schema: &Value, prefix: &str, out: &mut Vec<String>) {
    let schema = resolve(schema);
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, p) in props {
        let col = format!("{prefix}{name}");
        let p = resolve(p);
        if kind(&p) == "object" && p.get("properties").is_some() {
            ordered(&p, &format!("{col}_"), out);
        } else {
            out.push(col);
        }
    }
}
