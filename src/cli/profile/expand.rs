//! The only substitutions a profile value gets: a leading `~`, and `$NAME`
//! or `${NAME}` for a fixed list of names. Anything else that looks like a
//! variable is an error, so a typo cannot silently become a literal path.

/// Values of the variables a profile may use. `None`: not known here (the
/// error says so when a profile needs it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Vars {
    pub home: Option<String>,
    pub pwd: Option<String>,
    pub xdg_runtime_dir: Option<String>,
    pub uid: u32,
    /// The basename of COMMAND.
    pub app: Option<String>,
    pub wayland_display: Option<String>,
}

/// The names `$NAME` may use, for error messages and documentation.
pub const NAMES: &str = "$HOME, $PWD, $XDG_RUNTIME_DIR, $UID, $APP, $WAYLAND_DISPLAY";

impl Vars {
    fn get(&self, name: &str) -> Result<String, String> {
        let missing = |why: &str| Err(format!("${name} {why}"));
        match name {
            "HOME" => self.home.clone().map_or_else(|| missing("is not set"), Ok),
            "PWD" => self.pwd.clone().map_or_else(
                || missing("is unknown: the current directory cannot be read"),
                Ok,
            ),
            // pam_systemd's location when the session manager did not set it.
            "XDG_RUNTIME_DIR" => Ok(self
                .xdg_runtime_dir
                .clone()
                .unwrap_or_else(|| format!("/run/user/{}", self.uid))),
            "UID" => Ok(self.uid.to_string()),
            "APP" => self.app.clone().map_or_else(
                || missing("is the basename of COMMAND, but no COMMAND was given"),
                Ok,
            ),
            "WAYLAND_DISPLAY" => Ok(self
                .wayland_display
                .clone()
                .unwrap_or_else(|| "wayland-0".into())),
            _ => Err(format!(
                "unknown variable ${name} (a profile may use only ~, {NAMES}; write $$ for a literal $)"
            )),
        }
    }
}

/// Expand one value.
pub fn expand(value: &str, vars: &Vars) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    if rest == "~" || rest.starts_with("~/") {
        out.push_str(&vars.get("HOME")?);
        rest = &rest[1..];
    }
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(braced) = after.strip_prefix('{') {
            let end = braced
                .find('}')
                .ok_or_else(|| format!("unterminated ${{ in {value:?}"))?;
            out.push_str(&vars.get(&braced[..end])?);
            rest = &braced[end + 1..];
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if len == 0 {
                return Err(format!("a lone $ in {value:?} (write $$ for a literal $)"));
            }
            out.push_str(&vars.get(&after[..len])?);
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        Vars {
            home: Some("/home/u".into()),
            pwd: Some("/src/p".into()),
            xdg_runtime_dir: None,
            uid: 1000,
            app: Some("xeyes".into()),
            wayland_display: None,
        }
    }

    #[test]
    fn expands_the_documented_names() {
        let v = vars();
        assert_eq!(expand("~", &v).unwrap(), "/home/u");
        assert_eq!(expand("~/.cargo", &v).unwrap(), "/home/u/.cargo");
        assert_eq!(expand("a~b", &v).unwrap(), "a~b");
        assert_eq!(expand("$PWD/x", &v).unwrap(), "/src/p/x");
        assert_eq!(expand("${HOME}x", &v).unwrap(), "/home/ux");
        assert_eq!(
            expand("$XDG_RUNTIME_DIR/$WAYLAND_DISPLAY", &v).unwrap(),
            "/run/user/1000/wayland-0"
        );
        assert_eq!(
            expand("~/.local/share/sandwrap/$APP", &v).unwrap(),
            "/home/u/.local/share/sandwrap/xeyes"
        );
        assert_eq!(expand("cost $$5", &v).unwrap(), "cost $5");
        assert_eq!(expand("$UID", &v).unwrap(), "1000");
    }

    #[test]
    fn refuses_unknown_and_missing() {
        let mut v = vars();
        assert!(
            expand("$USER", &v)
                .unwrap_err()
                .contains("unknown variable $USER")
        );
        assert!(expand("${HOME", &v).unwrap_err().contains("unterminated"));
        assert!(expand("a $ b", &v).unwrap_err().contains("lone $"));
        v.home = None;
        assert_eq!(expand("~/x", &v).unwrap_err(), "$HOME is not set");
        v.app = None;
        assert!(expand("$APP", &v).unwrap_err().contains("no COMMAND"));
    }
}
