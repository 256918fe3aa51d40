//! Keyset pages: the one SELECT shape every list reads with, newest first
//! by a time column and then by id.

use super::exec::Arg;
use crate::domain::PageFrom;

/// `SELECT {select} … WHERE {clauses} AND <keyset condition> ORDER BY
/// {column}, id LIMIT limit + 1` and its arguments: the filter's clauses
/// and arguments first, then the cursor's, then the limit. Pages after a
/// cursor read older rows; pages before one read newer rows in ascending
/// order ([`crate::domain::Page::from_rows`] puts them back).
pub(super) fn page_query<'a>(
    select: &str,
    column: &str,
    mut clauses: Vec<String>,
    mut args: Vec<Arg<'a>>,
    from: &'a PageFrom,
    limit: i64,
) -> (String, Vec<Arg<'a>>) {
    let (cursor, op, order) = match from {
        PageFrom::Start => (None, "", "DESC"),
        PageFrom::After(c) => (Some(c), "<", "DESC"),
        PageFrom::Before(c) => (Some(c), ">", "ASC"),
    };
    if let Some(c) = cursor {
        clauses.push(format!("({column} {op} ? OR ({column} = ? AND id {op} ?))"));
        args.extend([
            c.created_at.into(),
            c.created_at.into(),
            c.id.as_str().into(),
        ]);
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    args.push((limit + 1).into());
    (
        format!("{select}{filter} ORDER BY {column} {order}, id {order} LIMIT ?"),
        args,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Cursor;

    #[test]
    fn the_cursor_follows_the_filter_and_the_limit_comes_last() {
        let before = PageFrom::Before(Cursor {
            created_at: 7,
            id: "mem_x".into(),
        });
        let (sql, args) = page_query(
            "SELECT id FROM memberships",
            "started_at",
            vec!["status = ?".into()],
            vec!["active".into()],
            &before,
            10,
        );
        assert_eq!(
            sql,
            "SELECT id FROM memberships WHERE status = ? AND \
             (started_at > ? OR (started_at = ? AND id > ?)) \
             ORDER BY started_at ASC, id ASC LIMIT ?"
        );
        let expected: Vec<Arg<'_>> = vec![
            "active".into(),
            7.into(),
            7.into(),
            "mem_x".into(),
            11.into(),
        ];
        assert_eq!(args, expected);
        let (sql, args) = page_query(
            "SELECT id FROM donors",
            "created_at",
            vec![],
            vec![],
            &PageFrom::Start,
            25,
        );
        assert_eq!(
            sql,
            "SELECT id FROM donors ORDER BY created_at DESC, id DESC LIMIT ?"
        );
        assert_eq!(args, vec![Arg::from(26)]);
    }
}
