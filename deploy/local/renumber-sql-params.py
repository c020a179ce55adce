#!/usr/bin/env python3
"""Renumbers the $N placeholders of one sqlx::query!/query_scalar! call in reading order, reorders
its arguments to match and heads each group of arguments with the CTE it first feeds, so that a
long statement reads top-down after a parameter was added anywhere.

    deploy/local/renumber-sql-params.py FILE 'let row = sqlx::query!('

The second argument is the text that starts the call. Then `cargo fmt` and `just sqlx-prepare`
(the compile-time check confirms every argument still has its column's type)."""
import re, sys

def split_args(text):
    args=[]; depth=0; cur=''; i=0
    while i < len(text):
        c=text[i]
        if c in '([{': depth+=1
        elif c in ')]}': depth-=1
        if c==',' and depth==0:
            args.append(cur); cur=''
        else:
            cur+=c
        i+=1
    if cur.strip(): args.append(cur)
    return [a.strip() for a in args if a.strip()]

def process(path, macro_start):
    s=open(path).read()
    start=s.index(macro_start)
    qs=s.index('r#"', start); qe=s.index('"#', qs)
    query=s[qs+3:qe]
    # args: from after '"#,' to the matching ')' of the macro
    a0=qe+3
    depth=1; j=s.index('(', start)+1
    k=j; depth=1
    while depth:
        if s[k] in '([{': depth+=1
        elif s[k] in ')]}': depth-=1
        k+=1
    close=k-1
    argtext=s[a0:close]
    # strip comment lines from args
    argtext='\n'.join(l for l in argtext.split('\n') if not l.strip().startswith('//'))
    args=split_args(argtext)
    order=[]
    cte_of={}
    current='(final select)'
    for m in re.finditer(r'(\b(\w+) AS \(|\$(\d+)\b)', query):
        if m.group(2) and m.group(0).endswith('('):
            current=m.group(2); continue
        n=int(m.group(3))
        if n not in order:
            order.append(n); cte_of[n]=current
    assert sorted(order)==list(range(1,len(args)+1)), (len(order), len(args))
    new_of={old:i+1 for i,old in enumerate(order)}
    query2=re.sub(r'\$(\d+)\b', lambda m: f'${new_of[int(m.group(1))]}', query)
    indent=' '*8
    lines=[]; last=None
    for old in order:
        if cte_of[old]!=last:
            lines.append(f'{indent}// {cte_of[old]}')
            last=cte_of[old]
        lines.append(f'{indent}{args[old-1]},')
    s=s[:qs+3]+query2+'"#,\n'+'\n'.join(lines)+'\n    '+s[close:]
    open(path,'w').write(s)

if len(sys.argv) != 3:
    sys.exit(__doc__)
process(sys.argv[1], sys.argv[2])
