"""gssshell.py - the Windows Remote Shell over an encrypted GSS session
(wsmancrypt.EncryptedSession): create a shell, run a command to its end,
delete the shell (t5300, t5350, t8050's Kerberos client)."""
import base64
import re
from xml.sax.saxutils import escape

import soap

SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
CMD = SHELL + "/cmd"


def create_shell(sess):
    st, _, body = sess.post(soap.envelope(
        "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create", CMD,
        body='<rsp:Shell xmlns:rsp="%s"><rsp:InputStreams>stdin</rsp:InputStreams>'
             '<rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>' % SHELL))
    m = re.search(rb'Name="ShellId">([0-9A-F-]+)<', body or b"")
    return st, m.group(1).decode() if m else None


def delete_shell(sess, shell_id):
    st, _, _ = sess.post(soap.envelope(
        "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete", CMD,
        selectors={"ShellId": shell_id}))
    return st


def run(sess, shell_id, command, streams="stdout|stderr"):
    """Runs command to its end: (HTTP status, the output of the streams
    named in streams (a regex alternation), exit code or None)."""
    st, _, body = sess.post(soap.envelope(
        SHELL + "/Command", CMD, selectors={"ShellId": shell_id},
        body='<rsp:CommandLine xmlns:rsp="%s"><rsp:Command>%s</rsp:Command></rsp:CommandLine>'
             % (SHELL, escape(command))))
    m = re.search(rb"<rsp:CommandId>([0-9A-F-]+)<", body or b"")
    if st != 200 or not m:
        return st, None, None
    cid = m.group(1).decode()
    out = b""
    for _ in range(200):
        st, _, body = sess.post(soap.envelope(
            SHELL + "/Receive", CMD, selectors={"ShellId": shell_id},
            body='<rsp:Receive xmlns:rsp="%s"><rsp:DesiredStream CommandId="%s">stdout stderr'
                 '</rsp:DesiredStream></rsp:Receive>' % (SHELL, cid)))
        if st != 200:
            return st, out, None
        for m in re.finditer(rb'<rsp:Stream Name="(?:%s)"[^>]*>([^<]*)<' % streams.encode(),
                             body):
            out += base64.b64decode(m.group(1))
        code = re.search(rb"<rsp:ExitCode>(-?\d+)</rsp:ExitCode>", body)
        if code:
            return 200, out, int(code.group(1))
    return 0, out, None
