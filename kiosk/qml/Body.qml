import QtQuick

Text {
    font.family: Theme.family
    font.pixelSize: Theme.fontBody
    color: Theme.text
    wrapMode: Text.WordWrap
}
